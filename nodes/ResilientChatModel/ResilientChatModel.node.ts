import type {
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	ISupplyDataFunctions,
	SupplyData,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { CircuitBreaker } from '../../lib/engine/circuitBreaker';
import { ConfigError } from '../../lib/engine/configError';
import { FailoverChain } from '../../lib/engine/failoverChain';
import type { ChainConfig, TaskResult } from '../../lib/engine/types';
import { providerOf } from '../../lib/providers/registry';
import { StoreGuard } from '../../lib/state/storeTrouble';
import type { StateStore } from '../../lib/state/types';
import { breakerPolicyOf, fieldLabel, readChainConfig } from '../shared/chainConfig';
import { listModels } from '../shared/modelSearch';
import { taskLogFields } from '../shared/taskLog';
import { CHAIN_CREDENTIALS, CHAIN_SUBTITLE } from '../shared/chainProperties';
import { alertCountersFor, openStateStore } from '../shared/stateStores';
import { REDIS_CREDENTIAL_TESTS } from '../shared/stateStoreParameters';
import { ChainChatModel } from './chainChatModel';
import { OPTION_DEFAULTS, properties } from './description';
import { keepImageParts } from './langchainParts';
import { n8nAiModules } from './n8nModules';

/** One model call as the node's output panel and the task log show it. */
export function callSummary(result: TaskResult): IDataObject {
	return {
		outcome: result.outcome,
		...(result.tier !== undefined
			? { tier: result.tier, provider: result.provider, model: result.model }
			: { reasonText: result.reasonText }),
		attempts: result.attempts.map((a) => ({
			tier: a.tier,
			attempt: a.attempt,
			model: `${a.provider}/${a.model}`,
			status: a.status,
			...(a.errorClass ? { errorClass: a.errorClass } : {}),
			...(a.httpStatus ? { httpStatus: a.httpStatus } : {}),
			latencyMs: a.latencyMs,
		})),
		latencyMs: result.latencyMs,
		usage: result.usage as unknown as IDataObject,
		costUsd: result.costUsd,
		...(result.drill ? { drill: result.drill } : {}),
		...(result.degraded ? { degraded: result.degraded } : {}),
	};
}

export class ResilientChatModel implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Resilient Chat Model',
		name: 'resilientChatModel',
		icon: { light: 'file:resilientChatModel.svg', dark: 'file:resilientChatModel.dark.svg' },
		group: ['transform'],
		version: [1],
		defaultVersion: 1,
		subtitle: CHAIN_SUBTITLE,
		description:
			'A chat model for AI Agents and chains with retries, failover across models and providers, and a circuit breaker',
		defaults: { name: 'Resilient Chat Model' },
		inputs: [],
		outputs: [NodeConnectionTypes.AiLanguageModel],
		outputNames: ['Model'],
		credentials: CHAIN_CREDENTIALS,
		properties,
	};

	methods = {
		credentialTest: REDIS_CREDENTIAL_TESTS,
		listSearch: { listModels },
	};

	async supplyData(this: ISupplyDataFunctions, itemIndex: number): Promise<SupplyData> {
		// The chain, store and credential readers use only what both contexts have.
		const shared = this as unknown as IExecuteFunctions;
		const node = this.getNode();
		const workflow = this.getWorkflow();
		const workflowId = String(workflow.id ?? '');
		const options: IDataObject = {
			...(OPTION_DEFAULTS as IDataObject),
			...(this.getNodeParameter('options', itemIndex, {}) as IDataObject),
		};
		const config = await readChainConfig(shared, itemIndex, new Map());
		const policy = options.circuitBreaker ? breakerPolicyOf(options) : undefined;
		if (typeof policy === 'string') {
			throw new NodeOperationError(node, policy, {
				itemIndex,
				description:
					'Set the Circuit Breaker options to numbers, or remove them to use the defaults.',
			});
		}
		const proceedWithoutStore = options.onStoreUnavailable === 'proceed';
		const guard = new StoreGuard(proceedWithoutStore ? 'proceed' : 'fail');
		const storeKind = options.stateStore === 'redis' ? 'redis' : 'embedded';

		let store: StateStore | undefined;
		let storeProblem: string | undefined;
		if (options.circuitBreaker) {
			try {
				store = await openStateStore(shared, storeKind);
			} catch (error) {
				storeProblem = (error as Error).message;
				if (!proceedWithoutStore) {
					throw new NodeOperationError(node, `The state store is unavailable: ${storeProblem}`, {
						itemIndex,
						description:
							'Fix the state store, or set Options › If State Store Is Unavailable to Proceed Without Shared State.',
					});
				}
				this.logger.warn(
					'Resilient Chat Model: state store unavailable, running without the circuit breaker (degraded)',
					{ node: node.name, error: storeProblem },
				);
			}
		}
		// Counters for the Resilience Alert trigger: summed in memory, written once a second.
		const metrics = await alertCountersFor(
			shared,
			{
				label: 'Resilient Chat Model',
				name: node.name,
				recordMetrics: options.recordMetrics !== false,
				kind: storeKind,
				store,
				storeProblem,
			},
			this.logger,
		);
		const breaker =
			store && policy ? new CircuitBreaker(store, policy, undefined, guard) : undefined;
		const chain = buildChain(this, config, itemIndex, breaker);
		// n8n's own SDK, not a copy npm may have installed beside this package.
		const { sdk, zodToJsonSchema } = n8nAiModules();
		const { getParametersJsonSchema, supplyModel } = sdk;
		const executionId = this.getExecutionId();

		// Each finished call's summary, waiting for n8n's tracing to write that call's output.
		const pendingSummaries: IDataObject[] = [];
		const onResult = async (result: TaskResult) => {
			pendingSummaries.push(callSummary(result));
			void metrics?.countTask(workflowId, {
				tier: result.tier,
				escalated: result.outcome === 'needs_human',
				costUsd: result.costUsd,
				workflowName: workflow.name,
			});
			this.logger.info('Resilient Chat Model call', {
				workflowId,
				executionId,
				node: node.name,
				...taskLogFields(result),
				toolCalls: result.toolCalls?.length ?? 0,
				...(storeProblem
					? { degraded: 'no shared state' }
					: result.degraded
						? { degraded: result.degraded }
						: {}),
			});
		};

		const model = new ChainChatModel({
			modelId: config.tiers.map((t) => t.model).join(' → '),
			run: async (task, signal) => await chain.run(task, { signal }),
			toJsonSchema: getParametersJsonSchema,
			zodToJsonSchema,
			onResult,
			invalid: (message) =>
				new NodeOperationError(
					node,
					`The conversation cannot be sent to the model chain: ${message}`,
					{
						itemIndex,
					},
				),
			failure: (result) =>
				new NodeOperationError(node, result.reasonText, {
					itemIndex,
					description: result.attempts
						.map(
							(a) =>
								`Tier ${a.tier} ${a.provider}/${a.model}, try ${a.attempt}: ${a.status}${a.errorClass ? ` (${a.errorClass}${a.httpStatus ? ` ${a.httpStatus}` : ''})` : ''}`,
						)
						.join('\n'),
					functionality: 'configuration-node',
				}),
			signal: this.getExecutionCancelSignal?.(),
		});

		// n8n's tracing writes each call's input and output to this node's panel; the output
		// also gets which tier answered, its attempts, latency, tokens and cost.
		const traced = new Proxy(this, {
			get(target, property) {
				if (property === 'addOutputData') {
					return (...args: Parameters<ISupplyDataFunctions['addOutputData']>) => {
						const summary = pendingSummaries.shift();
						const [type, index, data, ...rest] = args;
						if (summary && Array.isArray(data)) {
							const withSummary = data.map((run: INodeExecutionData[]) =>
								run.map((item) => ({ ...item, json: { ...item.json, resilience: summary } })),
							);
							return target.addOutputData(type, index, withSummary, ...rest);
						}
						return target.addOutputData(...args);
					};
				}
				const value: unknown = Reflect.get(target, property, target);
				return typeof value === 'function'
					? (value as (...a: unknown[]) => unknown).bind(target)
					: value;
			},
		});
		const supplied = supplyModel(traced, model);
		// The SDK's adapter drops the agent's image parts unless they arrive in standard form.
		keepImageParts(supplied.response);
		return supplied;
	}
}

function buildChain(
	ctx: ISupplyDataFunctions,
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
				? `The "${providerOf(provider).credential.displayName}" credential has no API key`
				: `${fieldLabel(error.field)} ${error.message.slice(error.field.length + 2)}`;
			throw new NodeOperationError(ctx.getNode(), message, {
				itemIndex,
				description: `Field: ${fieldLabel(error.field)}`,
			});
		}
		throw new NodeOperationError(ctx.getNode(), error as Error, { itemIndex });
	}
}
