import type {
	IDataObject,
	IExecuteFunctions,
	INodeType,
	INodeTypeDescription,
	ISupplyDataFunctions,
	SupplyData,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { breakerPolicyOf } from '../shared/breakerPolicy';
import { readChainConfig } from '../shared/chainConfig';
import { CHAIN_CREDENTIALS, CHAIN_SUBTITLE } from '../shared/chainProperties';
import { budgetUsdOf } from '../shared/chainBudget';
import { openChainRun } from '../shared/chainRun';
import type { ChainRun } from '../shared/chainRun';
import { connectedModelsOf, inputsExpression } from '../shared/connectedModels';
import type { ConnectedModels } from '../shared/connectedModels';
import { listModels } from '../shared/modelSearch';
import { REDIS_CREDENTIAL_TESTS } from '../shared/stateStoreParameters';
import { callFailure, callRecorder, withCallSummaries } from './callTracing';
import type { PendingSummaries } from './callTracing';
import { ChainChatModel } from './chainChatModel';
import { OPTION_DEFAULTS, properties } from './description';
import { keepImageParts } from './langchainParts';
import { n8nAiModules } from './n8nModules';

// An AI sub-node (it supplies a chat model), never a tool: the rule exempts such nodes only
// when their inputs are a literal list, and these are an expression (the Model inputs).
// eslint-disable-next-line @n8n/community-nodes/node-usable-as-tool
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
		inputs: inputsExpression(false),
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
		const node = this.getNode();
		const options: IDataObject = {
			...(OPTION_DEFAULTS as IDataObject),
			...(this.getNodeParameter('options', itemIndex, {}) as IDataObject),
		};
		const connected = await connectedModelsOf(this);
		// The parameter reader uses only what both contexts have.
		const config = await readChainConfig(
			this as unknown as IExecuteFunctions,
			itemIndex,
			new Map(),
			connected,
		);
		const run = await openModelRun(this, options, itemIndex, connected);
		const chain = run.chainFor(config, itemIndex);
		// n8n's own SDK, not a copy npm may have installed beside this package.
		const { sdk, zodToJsonSchema } = n8nAiModules();
		const pending: PendingSummaries = [];
		const model = new ChainChatModel({
			modelId: config.tiers.map((t) => t.model).join(' → '),
			run: async (task, signal, onText) => await chain.run(task, { signal, onText }),
			toJsonSchema: sdk.getParametersJsonSchema,
			zodToJsonSchema,
			onResult: callRecorder(this, run, pending),
			invalid: (message) =>
				new NodeOperationError(
					node,
					`The conversation cannot be sent to the model chain: ${message}`,
					{ itemIndex },
				),
			failure: (result) => callFailure(this, itemIndex, result),
			signal: this.getExecutionCancelSignal?.(),
		});
		const supplied = sdk.supplyModel(withCallSummaries(this, pending), model);
		// The SDK's adapter drops the agent's image parts unless they arrive in standard form.
		keepImageParts(supplied.response);
		return supplied;
	}
}

/** The chain run behind one supplied model: its breaker (if on), store and connected models. */
async function openModelRun(
	ctx: ISupplyDataFunctions,
	options: IDataObject,
	itemIndex: number,
	connected: ConnectedModels,
): Promise<ChainRun> {
	const node = ctx.getNode();
	const policy = options.circuitBreaker ? breakerPolicyOf(options) : undefined;
	if (typeof policy === 'string') {
		throw new NodeOperationError(node, policy, {
			itemIndex,
			description:
				'Set the Circuit Breaker options to numbers, or remove them to use the defaults.',
		});
	}
	return await openChainRun(ctx, {
		label: 'Resilient Chat Model',
		options,
		needsStore:
			Boolean(options.circuitBreaker) ||
			options.paceByRateLimits !== false ||
			budgetUsdOf(options) !== 0,
		policy,
		paced: options.paceByRateLimits !== false,
		withoutStore: 'the circuit breaker, pacing and budget',
		nameItems: false,
		connected,
		onStoreUnavailable: (problem) => {
			throw new NodeOperationError(node, `The state store is unavailable: ${problem}`, {
				itemIndex,
				description:
					'Fix the state store, or set Options › If State Store Is Unavailable to Proceed Without Shared State.',
			});
		},
	});
}
