import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { ConfigError } from '../../lib/engine/configError';
import { FailoverChain } from '../../lib/engine/failoverChain';
import type { ChainConfig, Task, TaskResult } from '../../lib/engine/types';
import { CREDENTIAL_FOR, fieldLabel, readChainConfig, readTask } from './chainConfig';
import { properties } from './description';

/** What goes on every item as `resilience`: which tier answered, why, how long, what it cost. */
export function resilienceOf(result: TaskResult): IDataObject {
	return {
		outcome: result.outcome,
		...(result.reason ? { reason: result.reason } : {}),
		reasonText: result.reasonText,
		...(result.tier !== undefined
			? { tier: result.tier, provider: result.provider, model: result.model }
			: {}),
		attempts: result.attempts as unknown as IDataObject[],
		tiers: result.tiers as unknown as IDataObject[],
		latencyMs: result.latencyMs,
		usage: result.usage as unknown as IDataObject,
		costUsd: result.costUsd,
		priceTableVersion: result.priceTableVersion,
		...(result.drill ? { drill: result.drill } : {}),
	};
}

interface Prepared {
	index: number;
	task: Task;
	chain: FailoverChain;
}

/** Runs `work` over `count` positions with at most `limit` in flight. */
async function inPool(
	count: number,
	limit: number,
	work: (position: number) => Promise<void>,
): Promise<void> {
	let next = 0;
	const worker = async () => {
		while (next < count) await work(next++);
	};
	await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
}

export class ResilientLlm implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Resilient LLM',
		name: 'resilientLlm',
		icon: { light: 'file:resilientLlm.svg', dark: 'file:resilientLlm.dark.svg' },
		group: ['transform'],
		version: 1,
		subtitle: '={{ ($parameter["chain"]?.tiers ?? []).map((t) => t.model).join(" → ") }}',
		description:
			'Ask an LLM with retries, failover across models and providers, and a Needs Human output for what no model could answer',
		defaults: { name: 'Resilient LLM' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Answered', 'Needs Human'],
		credentials: [
			{ name: 'resilientLlmAnthropicApi', required: false },
			{ name: 'resilientLlmOpenAiApi', required: false },
			{ name: 'resilientLlmGeminiApi', required: false },
			{ name: 'resilientLlmOllamaApi', required: false },
		],
		properties,
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const answered: Array<INodeExecutionData | undefined> = new Array(items.length);
		const needsHuman: Array<INodeExecutionData | undefined> = new Array(items.length);
		const credentials = new Map<string, ICredentialDataDecryptedObject | null>();
		const chains = new Map<string, FailoverChain>();
		const prepared: Prepared[] = [];

		// Every item's parameters are checked before any provider is called.
		for (let index = 0; index < items.length; index++) {
			try {
				const task = readTask(this, index);
				const config = await readChainConfig(this, index, credentials);
				const key = JSON.stringify(config);
				let chain = chains.get(key);
				if (!chain) {
					chain = buildChain(this, config, index);
					chains.set(key, chain);
				}
				prepared.push({ index, task, chain });
			} catch (error) {
				const nodeError =
					error instanceof NodeOperationError
						? error
						: new NodeOperationError(this.getNode(), error as Error, { itemIndex: index });
				if (!this.continueOnFail()) throw nodeError;
				// n8n moves items carrying an error to the Error output when one is configured.
				answered[index] = {
					json: { error: nodeError.message },
					error: nodeError,
					pairedItem: { item: index },
				};
			}
		}

		const options = this.getNodeParameter('options', 0, {}) as IDataObject;
		const concurrency = Math.max(1, Math.floor(Number(options.concurrency ?? 4)));
		const signal = this.getExecutionCancelSignal();
		const node = this.getNode();
		const workflowId = this.getWorkflow().id;

		await inPool(prepared.length, concurrency, async (position) => {
			const { index, task, chain } = prepared[position];
			const result = await chain.run(task, { signal });
			const resilience = resilienceOf(result);
			const input = items[index].json;
			this.logger.info('Resilient LLM task', {
				workflowId,
				node: node.name,
				itemIndex: index,
				outcome: result.outcome,
				reason: result.reason,
				tier: result.tier,
				provider: result.provider,
				model: result.model,
				latencyMs: result.latencyMs,
				tiers: result.tiers.map((t) => ({
					tier: t.tier,
					model: t.model,
					latencyMs: t.latencyMs,
					costUsd: t.costUsd,
				})),
				failures: result.attempts
					.filter((a) => a.status === 'failed')
					.map((a) => ({ tier: a.tier, class: a.errorClass, status: a.httpStatus })),
				tokens: result.usage,
				costUsd: result.costUsd,
				drill: result.drill,
			});
			if (result.outcome === 'answered') {
				answered[index] = {
					json: {
						...input,
						text: result.text ?? '',
						...(result.json !== undefined ? { output: result.json as IDataObject } : {}),
						resilience,
					},
					pairedItem: { item: index },
				};
			} else {
				needsHuman[index] = {
					json: {
						...input,
						prompt: task.prompt,
						...(task.systemPrompt ? { systemPrompt: task.systemPrompt } : {}),
						reason: result.reasonText,
						resilience,
					},
					pairedItem: { item: index },
				};
			}
		});

		return [answered.filter((i) => i !== undefined), needsHuman.filter((i) => i !== undefined)];
	}
}

function buildChain(ctx: IExecuteFunctions, config: ChainConfig, itemIndex: number): FailoverChain {
	try {
		return new FailoverChain(config);
	} catch (error) {
		if (error instanceof ConfigError) {
			const tier = /^tiers\[(\d+)\]\.apiKey$/.exec(error.field);
			const provider = tier ? config.tiers[Number(tier[1])]?.provider : undefined;
			const message = provider
				? `Item ${itemIndex}: the "${CREDENTIAL_FOR[provider].label}" credential has no API key`
				: `Item ${itemIndex}: ${fieldLabel(error.field)} ${error.message.slice(error.field.length + 2)}`;
			throw new NodeOperationError(ctx.getNode(), message, {
				itemIndex,
				description: `Field: ${fieldLabel(error.field)}`,
			});
		}
		throw new NodeOperationError(ctx.getNode(), error as Error, { itemIndex });
	}
}
