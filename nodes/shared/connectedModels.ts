/**
 * Chat models connected to the node's Model inputs, as tiers: the inputs themselves (a
 * number set on the node, as n8n's Model Selector has), reading what is connected once per
 * run, and the adapter each connected tier calls. The model, its key and its base URL are
 * the connected node's; retries, timeouts, the breaker and failover are the chain's.
 */
import type { IExecuteFunctions, INode, INodeProperties, ISupplyDataFunctions } from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import type { ConnectedNode, TierConfig } from '../../lib/engine/types';
import {
	ConnectedModelAdapter,
	isLangChainChatModel,
	modelIdOf,
	switchOffRetries,
} from '../../lib/providers/connected';
import type { LangChainChatModel } from '../../lib/providers/connected';
import type { BuiltInProviderName, ProviderAdapter } from '../../lib/providers/types';

export const MAX_CONNECTED_MODELS = 10;

export const CONNECTED_MODELS_PARAMETER: INodeProperties = {
	displayName: 'Connected Chat Models',
	name: 'connectedModels',
	type: 'number',
	noDataExpression: true,
	typeOptions: { minValue: 0, maxValue: MAX_CONNECTED_MODELS },
	default: 0,
	description:
		"How many Model inputs this node has for n8n's chat model nodes (OpenAI Chat Model, Mistral Cloud Chat Model, AWS Bedrock Chat Model...). A tier whose Provider is Connected Chat Model calls one of them, with that node's own credential.",
};

/**
 * The node's inputs for a number of connected models. Written into the `inputs` expression
 * as its source text: it may use nothing from outside itself, not even its own name.
 */
export function connectedInputs(parameters: { connectedModels?: unknown }, withMain: boolean) {
	// Plain old syntax: n8n evaluates this in its expression sandbox.
	const asked = Number((parameters && parameters.connectedModels) || 0) || 0;
	const count = Math.max(0, Math.min(10, Math.floor(asked)));
	const models = [];
	for (let i = 1; i <= count; i++)
		models.push({
			type: 'ai_languageModel',
			displayName: 'Model ' + i,
			required: true,
			maxConnections: 1,
		});
	return withMain ? [{ type: 'main', displayName: '' }].concat(models) : models;
}

/** The `inputs` of a node with Model inputs: main first for a node that takes items. */
export function inputsExpression(withMain: boolean): `={{${string}}}` {
	return `={{ (${connectedInputs.toString()})($parameter, ${withMain}) }}`;
}

/** A tier's field naming which Model input it calls. */
export const CONNECTED_INPUT_FIELD: INodeProperties = {
	displayName: 'Connected Model',
	name: 'connectedModel',
	type: 'number',
	typeOptions: { minValue: 1, maxValue: MAX_CONNECTED_MODELS },
	default: 1,
	displayOptions: { show: { provider: ['connected'] } },
	description:
		"The Model input whose chat model this tier calls: 1 for Model 1. Set how many inputs the node has under Connected Chat Models. The model, credential, temperature and token limit are the connected node's.",
};

/** Which built-in provider's error rules fit a stock chat model node's errors. */
const FAMILY_BY_NODE: Record<string, BuiltInProviderName> = {
	lmChatAnthropic: 'anthropic',
	lmChatGoogleGemini: 'gemini',
	lmChatGoogleVertex: 'gemini',
	lmChatOllama: 'ollama',
	lmChatOpenAi: 'openai',
	lmChatAzureOpenAi: 'openai',
	lmChatDeepSeek: 'openai',
	lmChatOpenRouter: 'openai',
	lmChatXAiGrok: 'openai',
	lmChatGroq: 'openai',
	lmChatMistralCloud: 'openai',
	lmChatVercelAiGateway: 'openai',
	lmChatNvidia: 'openai',
	lmChatLemonade: 'openai',
	lmChatMoonshot: 'openai',
	lmChatMinimax: 'openai',
	lmChatAlibabaCloud: 'openai',
	lmChatDatabricks: 'openai',
};

export function familyOf(nodeType: string): BuiltInProviderName | undefined {
	return FAMILY_BY_NODE[nodeType.replace(/^.*\./, '')];
}

/** One connected model, ready to be a tier. */
export interface ConnectedModel {
	node: ConnectedNode;
	/** The model the node is set to, or its node's name when it does not say. */
	modelId: string;
	adapter: ProviderAdapter;
}

export interface ConnectedModels {
	/** By input, 1-based; undefined where the node has fewer inputs. */
	byInput(input: number): ConnectedModel | undefined;
	count: number;
	adapterFor(tier: TierConfig): ProviderAdapter | undefined;
}

type Context = IExecuteFunctions | ISupplyDataFunctions;

/**
 * The node a model came from: n8n's tracing callback on the model holds its node's context
 * (name, type and credential id, never the secret); else the parent at the same input.
 */
/** What a connected model's node says about itself. */
type NodeFacts = Pick<INode, 'name' | 'type'> & Partial<Pick<INode, 'credentials'>>;

function nodeOf(model: LangChainChatModel, parent: NodeFacts | undefined): NodeFacts | undefined {
	const callbacks = (model as { callbacks?: unknown }).callbacks;
	const list = Array.isArray(callbacks)
		? callbacks
		: ((callbacks as { handlers?: unknown[] } | undefined)?.handlers ?? []);
	for (const callback of list) {
		const context = (callback as { executionFunctions?: { getNode?: () => INode } })
			?.executionFunctions;
		if (typeof context?.getNode === 'function') return context.getNode();
	}
	return parent;
}

function connectedNodeOf(input: number, node: NodeFacts | undefined): ConnectedNode {
	const credential = Object.values(node?.credentials ?? {})[0] as { id?: unknown } | undefined;
	const nodeType = node?.type ?? 'unknown';
	const family = familyOf(nodeType);
	return {
		input,
		node: node?.name ?? `Model ${input}`,
		nodeType,
		...(family ? { family } : {}),
		...(typeof credential?.id === 'string' && credential.id ? { credentialId: credential.id } : {}),
	};
}

/** Names the tiers that use a Model input, for an error about it. */
function tiersUsing(ctx: Context, input: number): string {
	const chain = ctx.getNodeParameter('chain', 0, {}) as {
		tiers?: { provider?: string; connectedModel?: number }[];
	};
	const tiers = (chain.tiers ?? []).flatMap((tier, i) =>
		tier.provider === 'connected' && Number(tier.connectedModel ?? 1) === input ? [i + 1] : [],
	);
	return tiers.length ? `Tier ${tiers.join(', ')} uses Connected Model ${input}, but n` : 'N';
}

/** The connected models, read once per run; none when the node has no Model inputs. */
export async function connectedModelsOf(ctx: Context): Promise<ConnectedModels> {
	const count = Number(ctx.getNodeParameter('connectedModels', 0, 0)) || 0;
	const models: ConnectedModel[] = [];
	if (count > 0) models.push(...(await readConnected(ctx, count)));
	const byInput = (input: number) => models[input - 1];
	return {
		count,
		byInput,
		adapterFor: (tier) => (tier.connected ? byInput(tier.connected.input)?.adapter : undefined),
	};
}

async function readConnected(ctx: Context, count: number): Promise<ConnectedModel[]> {
	const node = ctx.getNode();
	// A node run as a tool has no inputs at all.
	const inputs = 'getNodeInputs' in ctx ? ctx.getNodeInputs() : undefined;
	if (inputs && !inputs.some((input) => input.type === NodeConnectionTypes.AiLanguageModel)) {
		throw new NodeOperationError(
			node,
			'Connected chat models cannot be used here: this node has no Model inputs (it runs as a tool)',
			{ description: 'Use built-in providers in the Model Chain of a node used as a tool.' },
		);
	}
	let raw: unknown;
	try {
		raw = await ctx.getInputConnectionData(NodeConnectionTypes.AiLanguageModel, 0);
	} catch (error) {
		const missing = /Model (\d+) sub-node must be connected/.exec((error as Error).message);
		if (!missing) throw new NodeOperationError(node, error as Error);
		const input = Number(missing[1]);
		throw new NodeOperationError(
			node,
			`${tiersUsing(ctx, input)}othing is connected to the Model ${input} input`,
			{
				description: `Connect a chat model node (or enable the one there) to Model ${input}, or lower Connected Chat Models to the inputs you use.`,
			},
		);
	}
	// n8n lists the connected models last input first.
	const list = (Array.isArray(raw) ? [...raw] : raw ? [raw] : []).reverse();
	if (list.length !== count) {
		throw new NodeOperationError(
			node,
			`${count} Model inputs but ${list.length} connected chat models: connect a different node to each input`,
			{ description: 'One chat model node cannot be connected to two Model inputs.' },
		);
	}
	const parents = ctx
		.getParentNodes(node.name, {
			connectionType: NodeConnectionTypes.AiLanguageModel,
			depth: 1,
		})
		.reverse();
	return list.map((model, i) => {
		if (!isLangChainChatModel(model)) {
			throw new NodeOperationError(
				node,
				`The node on the Model ${i + 1} input is not a chat model`,
			);
		}
		switchOffRetries(model);
		const connected = connectedNodeOf(i + 1, nodeOf(model, parents[i]));
		const modelId = modelIdOf(model) || connected.node;
		return {
			node: connected,
			modelId,
			adapter: new ConnectedModelAdapter(model, modelId, connected.family),
		};
	});
}
