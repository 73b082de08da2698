/**
 * Maps one item's node parameters and the node's credentials to the engine's ChainConfig.
 * All n8n-specific reading happens here; the engine sees plain data.
 */
import type { ICredentialDataDecryptedObject, IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { CHAIN_DEFAULTS } from '../../lib/engine/defaults';
import { ConfigError } from '../../lib/engine/configError';
import { tierEndpoint } from '../../lib/engine/tierEndpoint';
import type { TierEndpoint } from '../../lib/engine/tierEndpoint';
import type { ChainConfig, ProviderName, TierConfig } from '../../lib/engine/types';
import { isProviderName, providerOf } from '../../lib/providers/registry';
import type { ConnectedModels } from './connectedModels';
import { BASE_URL_HELP, fieldLabel } from './fieldLabels';
import { tierCredentialOf } from './tierCredential';

/** Per credential type: its data, or null when none is selected on the node. */
type Credentials = Map<string, ICredentialDataDecryptedObject | null>;

interface TierOptions {
	baseUrl?: string;
	contextWindow?: number;
	firstTokenTimeoutSeconds?: number;
	stallTimeoutSeconds?: number;
	inputPrice?: number;
	outputPrice?: number;
}

/** One tier as n8n stores it. The Tier Options fields may also sit on the tier (older saves). */
export interface TierParameters extends TierOptions {
	provider?: string;
	/** A connected tier's Model input, 1-based. */
	connectedModel?: number;
	/** A model picker value, or the plain name older saves hold. */
	model?: string | { __rl?: boolean; mode?: string; value?: unknown };
	attempts?: number;
	timeoutSeconds?: number;
	tierOptions?: TierOptions;
}

/** The model name of a tier, whether saved by the model picker or as plain text. */
export function modelOf(tier: TierParameters): string {
	const model = tier.model;
	const value = model !== null && typeof model === 'object' ? model.value : model;
	return typeof value === 'string' || typeof value === 'number' ? String(value).trim() : '';
}

/** A Tier Options field, or the same field where older saves keep it. */
function tierOption<K extends keyof TierOptions>(tier: TierParameters, key: K): TierOptions[K] {
	const value = tier.tierOptions?.[key];
	return value !== undefined && value !== '' && value !== 0 ? value : tier[key];
}

function parseSchema(ctx: IExecuteFunctions, itemIndex: number): object | undefined {
	const raw: unknown = ctx.getNodeParameter('jsonSchema', itemIndex, '');
	if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === ''))
		return undefined;
	if (typeof raw === 'object') return raw;
	try {
		return JSON.parse(String(raw)) as object;
	} catch (error) {
		throw new NodeOperationError(
			ctx.getNode(),
			`Item ${itemIndex}: the JSON Schema is not valid JSON`,
			{
				itemIndex,
				description: `JSON Schema: ${(error as Error).message}`,
			},
		);
	}
}

/**
 * Builds the chain for one item. Credentials are fetched once per type and cached by the
 * caller, so a batch does not decrypt them per item.
 */
export async function readChainConfig(
	ctx: IExecuteFunctions,
	itemIndex: number,
	credentials: Credentials,
	connected?: ConnectedModels,
): Promise<ChainConfig> {
	const chain = ctx.getNodeParameter('chain', itemIndex, {}) as { tiers?: TierParameters[] };
	const options = ctx.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const outputFormat = ctx.getNodeParameter('outputFormat', itemIndex, 'text') as string;
	const tiers: TierConfig[] = [];
	for (const [position, tier] of (chain.tiers ?? []).entries())
		tiers.push(
			tier.provider === 'connected'
				? connectedTier(ctx, itemIndex, tier, position, connected)
				: await readTier(ctx, itemIndex, credentials, tier, position),
		);
	const schema = outputFormat === 'json' ? parseSchema(ctx, itemIndex) : undefined;
	return {
		tiers,
		criticality: ctx.getNodeParameter(
			'criticality',
			itemIndex,
			'standard',
		) as ChainConfig['criticality'],
		deadlineMs:
			options.deadlineSeconds === undefined
				? undefined
				: Math.round(Number(options.deadlineSeconds) * 1000),
		maxOutputTokens: options.maxOutputTokens as number | undefined,
		temperature: (options.temperature as number | undefined) ?? CHAIN_DEFAULTS.temperature,
		output: {
			requireComplete:
				(options.requireComplete as boolean | undefined) ?? CHAIN_DEFAULTS.requireComplete,
			json: outputFormat === 'json',
			...(schema ? { jsonSchema: schema } : {}),
		},
		backoff: {
			...(options.initialBackoffMs !== undefined
				? { initialDelayMs: Number(options.initialBackoffMs) }
				: {}),
			...(options.maxRetryWaitSeconds !== undefined
				? { maxHintMs: Number(options.maxRetryWaitSeconds) * 1000 }
				: {}),
		},
		drill: (options.drill as ChainConfig['drill']) ?? 'off',
	};
}

/** What a tier sets however it is reached: tries, timeouts, context window, price. */
function tierLimits(tier: TierParameters): Partial<TierConfig> {
	const inputPrice = tierOption(tier, 'inputPrice') ?? 0;
	const outputPrice = tierOption(tier, 'outputPrice') ?? 0;
	const price =
		inputPrice > 0 || outputPrice > 0
			? { inputPerMTok: inputPrice, outputPerMTok: outputPrice }
			: undefined;
	const contextWindow = tierOption(tier, 'contextWindow');
	const firstTokenSeconds = tierOption(tier, 'firstTokenTimeoutSeconds');
	const stallSeconds = tierOption(tier, 'stallTimeoutSeconds');
	return {
		attempts: tier.attempts,
		timeoutMs:
			tier.timeoutSeconds === undefined ? undefined : Math.round(tier.timeoutSeconds * 1000),
		contextWindow: contextWindow ? contextWindow : undefined,
		...(firstTokenSeconds ? { firstTokenTimeoutMs: Math.round(firstTokenSeconds * 1000) } : {}),
		...(stallSeconds ? { stallTimeoutMs: Math.round(stallSeconds * 1000) } : {}),
		...(price ? { price } : {}),
	};
}

/** A tier that calls the chat model on one of the node's Model inputs. */
function connectedTier(
	ctx: IExecuteFunctions,
	itemIndex: number,
	tier: TierParameters,
	position: number,
	connected: ConnectedModels | undefined,
): TierConfig {
	const input = Number(tier.connectedModel ?? 1);
	const model = connected?.byInput(input);
	if (!model) {
		const inputs = connected?.count ?? 0;
		throw new NodeOperationError(
			ctx.getNode(),
			`Tier ${position + 1} uses Connected Model ${input}, but this node has ${inputs ? `only ${inputs} Model input${inputs > 1 ? 's' : ''}` : 'no Model inputs'}`,
			{
				itemIndex,
				description: `Set Connected Chat Models to ${input} or more and connect a chat model node to the Model ${input} input.`,
			},
		);
	}
	return {
		provider: 'connected',
		model: model.modelId,
		connected: model.node,
		...tierLimits(tier),
	};
}

/** One tier of the Model Chain, with the key and base URL of its credential. */
async function readTier(
	ctx: IExecuteFunctions,
	itemIndex: number,
	credentials: Credentials,
	tier: TierParameters,
	position: number,
): Promise<TierConfig> {
	const provider = String(tier.provider ?? '') as ProviderName;
	const baseUrl = tierOption(tier, 'baseUrl');
	const connection: TierEndpoint = isProviderName(provider)
		? await tierConnection(ctx, itemIndex, credentials, provider, position, baseUrl)
		: { baseUrl: baseUrl?.trim() || undefined };
	return {
		provider,
		model: modelOf(tier),
		apiKey: connection.apiKey,
		...(connection.poolKeys ? { poolKeys: connection.poolKeys } : {}),
		baseUrl: connection.baseUrl,
		...tierLimits(tier),
	};
}

/** Where a tier's calls go and with which key: its credential, and its Base URL on that host. */
async function tierConnection(
	ctx: IExecuteFunctions,
	itemIndex: number,
	credentials: Credentials,
	provider: ProviderName,
	position: number,
	baseUrl: string | undefined,
): Promise<TierEndpoint> {
	const descriptor = providerOf(provider);
	const read = async (type: string) => {
		let credential = credentials.get(type);
		if (credential === undefined) {
			credential = await ctx.getCredentials(type, itemIndex).catch(() => null);
			credentials.set(type, credential);
		}
		return credential;
	};
	const { slot, credential, fromFallback } = await tierCredentialOf(descriptor, read);
	// A self-hosted endpoint named on the tier may need no credential at all.
	const optional = descriptor.baseUrlReplacesCredential && Boolean(baseUrl);
	if (!credential && !optional) {
		throw new NodeOperationError(
			ctx.getNode(),
			`Tier ${position + 1} uses ${descriptor.label}, but no "${descriptor.credential.displayName}" credential is selected on this node`,
			{
				itemIndex,
				description:
					'Select or create that credential at the top of the node, or remove the tier from the Model Chain.',
			},
		);
	}
	const field = `tiers[${position}].baseUrl`;
	try {
		return tierEndpoint(field, descriptor, slot.displayName, credential, baseUrl, fromFallback);
	} catch (error) {
		if (!(error instanceof ConfigError))
			throw new NodeOperationError(ctx.getNode(), error as Error, { itemIndex });
		throw new NodeOperationError(
			ctx.getNode(),
			`${fieldLabel(field)} ${error.message.slice(field.length + 2)}`,
			{ itemIndex, description: BASE_URL_HELP },
		);
	}
}
