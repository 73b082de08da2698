import { createHash, randomUUID } from 'node:crypto';

import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { CHAIN_DEFAULTS, RUN_DEFAULTS } from '../../lib/engine/defaults';
import { CircuitBreaker } from '../../lib/engine/circuitBreaker';
import { ConfigError } from '../../lib/engine/configError';
import { FailoverChain } from '../../lib/engine/failoverChain';
import type { ChainConfig, Task, TaskResult } from '../../lib/engine/types';
import { runOnce } from '../../lib/state/idempotency';
import { StoreGuard } from '../../lib/state/storeTrouble';
import { StateStoreUnavailableError } from '../../lib/state/types';
import type { StateStore } from '../../lib/state/types';
import { providerOf } from '../../lib/providers/registry';
import { breakerPolicyOf, fieldLabel, readChainConfig, readTask } from '../shared/chainConfig';
import { properties } from './description';
import { taskLogFields } from '../shared/taskLog';
import { listModels } from '../shared/modelSearch';
import { CHAIN_CREDENTIALS, CHAIN_SUBTITLE } from '../shared/chainProperties';
import { alertCountersFor, openStateStore } from '../shared/stateStores';
import { REDIS_CREDENTIAL_TESTS } from '../shared/stateStoreParameters';

/**
 * What goes on every item as `resilience`: which tier answered, why, how long, what it cost;
 * and `degraded`, why shared state could not be used or written for it, if it could not.
 */
export function resilienceOf(result: TaskResult, cached = false, degraded?: string): IDataObject {
	return {
		...(cached ? { cached: true } : {}),
		...(degraded ? { degraded } : {}),
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
	config: ChainConfig;
	/** Set when idempotency is on. */
	key?: string;
}

/** The derived idempotency key: the same prompt through the same node and chain is the same task. */
function derivedKey(workflowId: string, node: string, task: Task, config: ChainConfig): string {
	const identity = {
		workflowId,
		node,
		prompt: task.prompt,
		systemPrompt: task.systemPrompt ?? '',
		schema: config.output?.jsonSchema ?? null,
		json: Boolean(config.output?.json),
		chain: config.tiers.map((t) => [t.provider, t.model, t.baseUrl ?? '']),
	};
	return `derived:${createHash('sha256').update(JSON.stringify(identity)).digest('hex')}`;
}

/**
 * Runs `work` over `count` positions with at most `limit` in flight, handing out no new
 * position once `stop()` says so. `work` deals with its own errors.
 */
async function inPool(
	count: number,
	limit: number,
	stop: () => boolean,
	work: (position: number) => Promise<void>,
): Promise<void> {
	let next = 0;
	const worker = async () => {
		while (next < count && !stop()) await work(next++);
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
}

const MAX_CONCURRENCY = 64;

/** Options › Concurrency as a whole number of items in flight, or why it is not one. */
function concurrencyOf(value: unknown): number | string {
	const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
	if (typeof n !== 'number' || !Number.isFinite(n) || n < 1) {
		return `Options › Concurrency must be a number from 1 to ${MAX_CONCURRENCY}, got ${JSON.stringify(value)}`;
	}
	return Math.min(MAX_CONCURRENCY, Math.floor(n));
}

/** Warned once per process, not once per execution. */
let queueModeWarned = false;

function inQueueMode(): boolean {
	return process.env.EXECUTIONS_MODE === 'queue';
}

export class ResilientLlm implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Resilient LLM',
		name: 'resilientLlm',
		icon: { light: 'file:resilientLlm.svg', dark: 'file:resilientLlm.dark.svg' },
		group: ['transform'],
		// Listed as versions so that a change saved workflows cannot take ships as version 2.
		version: [1],
		defaultVersion: 1,
		subtitle: CHAIN_SUBTITLE,
		description:
			'Ask an LLM with retries, failover across models and providers, and a Needs Human output for what no model could answer',
		defaults: { name: 'Resilient LLM' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Answered', 'Needs Human'],
		credentials: CHAIN_CREDENTIALS,
		properties,
	};

	methods = {
		credentialTest: REDIS_CREDENTIAL_TESTS,
		listSearch: { listModels },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const answered: Array<INodeExecutionData | undefined> = new Array(items.length);
		const needsHuman: Array<INodeExecutionData | undefined> = new Array(items.length);
		const credentials = new Map<string, ICredentialDataDecryptedObject | null>();
		const chains = new Map<string, FailoverChain>();
		const prepared: Prepared[] = [];
		const options = this.getNodeParameter('options', 0, {}) as IDataObject;
		const node = this.getNode();
		const workflow = this.getWorkflow();
		const workflowId = String(workflow.id ?? '');
		const idempotency = String(options.idempotency ?? 'off');
		// On unless switched off: every execution learns at once that a provider is down.
		const breakerOn = options.circuitBreaker !== false;
		const guard = new StoreGuard(options.onStoreUnavailable === 'proceed' ? 'proceed' : 'fail');
		const concurrency = concurrencyOf(options.concurrency ?? RUN_DEFAULTS.concurrency);

		// Shared state, when asked for. If it cannot be had: fail the items, or go on without it.
		let store: StateStore | undefined;
		let storeProblem: string | undefined;
		if (breakerOn || idempotency !== 'off') {
			try {
				store = await openStateStore(this, options.stateStore === 'redis' ? 'redis' : 'embedded');
				if (options.stateStore !== 'redis' && inQueueMode() && !queueModeWarned) {
					// Each worker has its own file: nothing is shared between workers.
					queueModeWarned = true;
					this.logger.warn(
						'Resilient LLM: n8n runs in queue mode, but this node uses the embedded state store, which each worker keeps to itself. Choose Options › State Store › Redis so that workers share the circuit breaker and idempotency.',
						{ node: node.name, workflowId },
					);
				}
			} catch (error) {
				storeProblem = (error as Error).message;
				if (options.onStoreUnavailable === 'proceed') {
					this.logger.warn(
						'Resilient LLM: state store unavailable, running without breaker and idempotency (degraded)',
						{ node: node.name, error: storeProblem },
					);
				}
			}
		}
		// Counters for the Resilience Alert trigger: summed in memory, written once a second.
		const metrics = await alertCountersFor(
			this,
			{
				label: 'Resilient LLM',
				name: node.name,
				recordMetrics: options.recordMetrics !== false,
				kind: options.stateStore === 'redis' ? 'redis' : 'embedded',
				store,
				storeProblem,
			},
			this.logger,
		);
		const policy = breakerOn ? breakerPolicyOf(options) : undefined;
		const breaker =
			store && typeof policy === 'object'
				? new CircuitBreaker(store, policy, undefined, guard)
				: undefined;

		// Every item's parameters are checked before any provider is called.
		for (let index = 0; index < items.length; index++) {
			try {
				if (typeof concurrency === 'string') {
					throw new NodeOperationError(node, `Item ${index}: ${concurrency}`, {
						itemIndex: index,
						description: 'Set Options › Concurrency to how many items may be sent at once.',
					});
				}
				if (typeof policy === 'string') {
					throw new NodeOperationError(node, `Item ${index}: ${policy}`, {
						itemIndex: index,
						description:
							'Set the Circuit Breaker options to numbers, or remove them to use the defaults.',
					});
				}
				if (storeProblem && options.onStoreUnavailable !== 'proceed') {
					throw storeUnavailable(this, index, storeProblem);
				}
				const task = readTask(this, index);
				const config = await readChainConfig(this, index, credentials);
				const chainKey = JSON.stringify(config);
				let chain = chains.get(chainKey);
				if (!chain) {
					chain = buildChain(this, config, index, breaker);
					chains.set(chainKey, chain);
				}
				let key: string | undefined;
				if (store && idempotency === 'custom') {
					const custom: unknown = this.getNodeParameter('options.idempotencyKey', index, '');
					if (typeof custom !== 'string' && typeof custom !== 'number') {
						throw new NodeOperationError(node, `Item ${index}: the Idempotency Key is empty`, {
							itemIndex: index,
							description:
								'Options › Idempotency Key must resolve to text or a number for every item.',
						});
					}
					if (String(custom).trim() === '') {
						throw new NodeOperationError(node, `Item ${index}: the Idempotency Key is empty`, {
							itemIndex: index,
							description:
								'Options › Idempotency Key must resolve to text or a number for every item.',
						});
					}
					key = `custom:${workflowId}:${node.name}:${String(custom)}`;
				} else if (store && idempotency === 'derived') {
					key = derivedKey(workflowId, node.name, task, config);
				}
				prepared.push({ index, task, chain, config, key });
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

		const signal = this.getExecutionCancelSignal();
		const ttlMs = Math.max(
			1,
			Number(options.idempotencyTtlHours ?? RUN_DEFAULTS.idempotencyTtlHours) * 3_600_000,
		);
		const executionId = this.getExecutionId();
		/** With On Error set to stop, the first item that fails: no new item starts after it. */
		let stopWith: NodeOperationError | undefined;
		/** Answers a provider sent (and was paid for) that a re-run would not find in the store. */
		let answersOnlyHere = 0;

		const runTask = async ({ index, task, chain, config, key }: Prepared) => {
			let result: TaskResult;
			let cached = false;
			let unstored: string | undefined;
			if (store && key) {
				// The lease outlives the task's deadline: a lease that ran out means its owner died.
				const leaseMs = (config.deadlineMs ?? CHAIN_DEFAULTS.deadlineMs) + 5_000;
				const owner = `${executionId}:${index}:${randomUUID()}`;
				({
					result,
					cached,
					degraded: unstored,
				} = await runOnce(
					store,
					key,
					owner,
					{ leaseMs, ttlMs, signal, guard },
					() => chain.run(task, { signal }),
					(r) => r.outcome === 'answered',
				));
			} else {
				result = await chain.run(task, { signal });
			}
			const degraded =
				[
					storeProblem ? `ran without shared state: ${storeProblem}` : undefined,
					// A stored answer's own note is about the run that stored it.
					cached ? undefined : result.degraded,
					unstored,
				]
					.filter(Boolean)
					.join('; ') || undefined;
			return { result, cached, degraded, kept: !unstored };
		};

		await inPool(
			prepared.length,
			typeof concurrency === 'number' ? concurrency : 1,
			() => stopWith !== undefined,
			async (position) => {
				const { index, task } = prepared[position];
				let outcome: Awaited<ReturnType<typeof runTask>>;
				try {
					outcome = await runTask(prepared[position]);
				} catch (error) {
					// One item's trouble (its state store claim, a bug) is that item's alone.
					const nodeError = itemError(this, error, index);
					if (!this.continueOnFail()) stopWith ??= nodeError;
					else
						answered[index] = {
							json: { error: nodeError.message },
							error: nodeError,
							pairedItem: { item: index },
						};
					return;
				}
				const { result, cached, degraded } = outcome;
				if (result.outcome === 'answered' && !cached && !(prepared[position].key && outcome.kept))
					answersOnlyHere++;
				const resilience = resilienceOf(result, cached, degraded);
				await metrics?.countTask(workflowId, {
					tier: result.tier,
					escalated: result.outcome === 'needs_human',
					costUsd: cached ? 0 : result.costUsd,
					workflowName: workflow.name,
				});
				const input = items[index].json;
				this.logger.info('Resilient LLM task', {
					workflowId,
					executionId,
					node: node.name,
					itemIndex: index,
					...taskLogFields(result),
					...(cached ? { cached: true } : {}),
					...(storeProblem ? { degraded: 'no shared state' } : degraded ? { degraded } : {}),
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
			},
		);
		if (stopWith) {
			// Stopping would throw away answers already paid for that no store kept for the re-run:
			// they are delivered instead, and the items that did not finish go to a person.
			if (answersOnlyHere === 0) throw stopWith;
			this.logger.error(
				`Resilient LLM: ${stopWith.message}; delivering the ${answersOnlyHere} answer(s) already received instead of stopping`,
				{ node: node.name, workflowId, executionId },
			);
			for (const { index, task } of prepared) {
				if (answered[index] || needsHuman[index]) continue;
				needsHuman[index] = {
					json: {
						...items[index].json,
						prompt: task.prompt,
						...(task.systemPrompt ? { systemPrompt: task.systemPrompt } : {}),
						reason: `Did not finish: ${stopWith.message}`,
					},
					pairedItem: { item: index },
				};
			}
		}

		return [answered.filter((i) => i !== undefined), needsHuman.filter((i) => i !== undefined)];
	}
}

/** An item's failure while it ran, as n8n shows it: naming the item, and what to do about it. */
function itemError(ctx: IExecuteFunctions, error: unknown, itemIndex: number): NodeOperationError {
	if (error instanceof NodeOperationError) return error;
	if (error instanceof StateStoreUnavailableError)
		return storeUnavailable(ctx, itemIndex, error.message);
	return new NodeOperationError(ctx.getNode(), error as Error, { itemIndex });
}

/**
 * An item failed because the state store could not be used. n8n swaps a message quoting a
 * system error code (ECONNREFUSED, EACCES, ENOTDIR, ...) for a generic sentence naming
 * neither the item nor the store ("Forbidden by access permissions, ..."); this message says
 * both, and the store's own words, so it is kept.
 */
function storeUnavailable(
	ctx: IExecuteFunctions,
	itemIndex: number,
	problem: string,
): NodeOperationError {
	const message = `Item ${itemIndex}: the state store is unavailable: ${problem}`;
	const error = new NodeOperationError(ctx.getNode(), message, {
		itemIndex,
		description:
			'Fix the state store, or set Options › If State Store Is Unavailable to Proceed Without Shared State.',
	});
	error.message = message;
	return error;
}

function buildChain(
	ctx: IExecuteFunctions,
	config: ChainConfig,
	itemIndex: number,
	breaker?: CircuitBreaker,
): FailoverChain {
	try {
		return new FailoverChain(config, { breaker });
	} catch (error) {
		if (error instanceof ConfigError) {
			const tier = /^tiers\[(\d+)\]\.apiKey$/.exec(error.field);
			const provider = tier ? config.tiers[Number(tier[1])]?.provider : undefined;
			const message = provider
				? `Item ${itemIndex}: the "${providerOf(provider).credential.displayName}" credential has no API key`
				: `Item ${itemIndex}: ${fieldLabel(error.field)} ${error.message.slice(error.field.length + 2)}`;
			throw new NodeOperationError(ctx.getNode(), message, {
				itemIndex,
				description: `Field: ${fieldLabel(error.field)}`,
			});
		}
		throw new NodeOperationError(ctx.getNode(), error as Error, { itemIndex });
	}
}
