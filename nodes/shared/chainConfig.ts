/**
 * Maps one item's node parameters and the node's credentials to the engine's ChainConfig
 * and Task. All n8n-specific reading happens here; the engine sees plain data.
 */
import type { ICredentialDataDecryptedObject, IDataObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { BREAKER_DEFAULTS, CHAIN_DEFAULTS, LONG_OPEN_FACTOR } from '../../lib/engine/defaults';
import { ConfigError } from '../../lib/engine/configError';
import { tierEndpoint } from '../../lib/engine/tierEndpoint';
import type { ChainConfig, ProviderName, TierConfig } from '../../lib/engine/types';
import type { BreakerPolicy } from '../../lib/state/types';
import { isProviderName, providerOf } from '../../lib/providers/registry';
import type { Connection } from '../../lib/providers/types';

/** What to do about a tier's Base URL that would take a key to another host. */
export const BASE_URL_HELP =
	"A key goes only to the host its credential names: a tier's Base URL may only choose another path on that host. For another server, select a credential of its own (an OpenAI-Compatible credential for an OpenAI-compatible server) and leave the tier's Base URL empty.";

/** The engine's field paths, in the words of the node's UI. */
export function fieldLabel(field: string): string {
	const tier = /^tiers\[(\d+)\]\.?(.*)$/.exec(field);
	const names: Record<string, string> = {
		provider: 'Provider',
		model: 'Model',
		apiKey: 'credential API Key',
		baseUrl: 'Tier Options › Base URL',
		attempts: 'Attempts',
		timeoutMs: 'Timeout (Seconds)',
		contextWindow: 'Tier Options › Context Window (Tokens)',
		'price.inputPerMTok': 'Tier Options › Input Price',
		'price.outputPerMTok': 'Tier Options › Output Price',
	};
	if (tier)
		return `Model Chain › Tier ${Number(tier[1]) + 1}${tier[2] ? ` › ${names[tier[2]] ?? tier[2]}` : ''}`;
	const top: Record<string, string> = {
		tiers: 'Model Chain',
		prompt: 'Prompt',
		systemPrompt: 'System Prompt',
		deadlineMs: 'Options › Task Deadline (Seconds)',
		maxOutputTokens: 'Options › Max Output Tokens',
		temperature: 'Options › Temperature',
		criticality: 'Criticality',
		'output.jsonSchema': 'JSON Schema',
		drill: 'Options › Drill',
		'backoff.initialDelayMs': 'Options › Backoff Start (Ms)',
		'backoff.maxHintMs': 'Options › Max Retry Wait (Seconds)',
	};
	return top[field] ?? field;
}

interface TierOptions {
	baseUrl?: string;
	contextWindow?: number;
	inputPrice?: number;
	outputPrice?: number;
}

/** One tier as n8n stores it. The Tier Options fields may also sit on the tier (older saves). */
export interface TierParameters extends TierOptions {
	provider?: string;
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
	/** Per credential type: its data, or null when none is selected on the node. */
	credentials: Map<string, ICredentialDataDecryptedObject | null>,
): Promise<ChainConfig> {
	const chain = ctx.getNodeParameter('chain', itemIndex, {}) as { tiers?: TierParameters[] };
	const options = ctx.getNodeParameter('options', itemIndex, {}) as IDataObject;
	const outputFormat = ctx.getNodeParameter('outputFormat', itemIndex, 'text') as string;
	const tiers: TierConfig[] = [];
	for (const [position, tier] of (chain.tiers ?? []).entries()) {
		const provider = String(tier.provider ?? '') as ProviderName;
		const baseUrl = tierOption(tier, 'baseUrl');
		let connection: Connection = { baseUrl: baseUrl?.trim() || undefined };
		if (isProviderName(provider)) {
			const descriptor = providerOf(provider);
			const read = async (type: string) => {
				let credential = credentials.get(type);
				if (credential === undefined) {
					credential = await ctx.getCredentials(type, itemIndex).catch(() => null);
					credentials.set(type, credential);
				}
				return credential;
			};
			let slot = descriptor.credential;
			let credential = await read(slot.type);
			const fallback = descriptor.fallbackCredential;
			if (!credential && fallback) {
				credential = await read(fallback.type);
				if (credential) slot = fallback;
			}
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
				connection = tierEndpoint(
					field,
					descriptor,
					slot.displayName,
					credential,
					baseUrl,
					slot === fallback,
				);
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
		const inputPrice = tierOption(tier, 'inputPrice') ?? 0;
		const outputPrice = tierOption(tier, 'outputPrice') ?? 0;
		const price =
			inputPrice > 0 || outputPrice > 0
				? { inputPerMTok: inputPrice, outputPerMTok: outputPrice }
				: undefined;
		const contextWindow = tierOption(tier, 'contextWindow');
		tiers.push({
			provider,
			model: modelOf(tier),
			apiKey: connection.apiKey,
			baseUrl: connection.baseUrl,
			attempts: tier.attempts,
			timeoutMs:
				tier.timeoutSeconds === undefined ? undefined : Math.round(tier.timeoutSeconds * 1000),
			contextWindow: contextWindow ? contextWindow : undefined,
			...(price ? { price } : {}),
		});
	}
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

/** A number option, or an expression's text that is one; unset takes `fallback`; else why not. */
function numberOption(
	options: IDataObject,
	name: string,
	label: string,
	fallback: number,
	min: number,
): number | string {
	const value = options[name];
	if (value === undefined || value === null) return fallback;
	const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
	if (typeof n !== 'number' || !Number.isFinite(n)) {
		return `Options › ${label} must be a number of at least ${min}, got ${JSON.stringify(value)}`;
	}
	return n;
}

/**
 * The circuit breaker's policy from a node's options (Resilient LLM and Resilient Chat
 * Model); an option left unset takes the engine's default. An option that is not a number
 * (an expression's "five", "30s") is not guessed at: the text says which one and what it got.
 */
export function breakerPolicyOf(options: IDataObject): BreakerPolicy | string {
	const threshold = numberOption(
		options,
		'breakerThreshold',
		'Circuit Breaker Threshold',
		BREAKER_DEFAULTS.failureThreshold,
		1,
	);
	const cooldown = numberOption(
		options,
		'breakerCooldownSeconds',
		'Circuit Breaker Cool-Down (Seconds)',
		BREAKER_DEFAULTS.openMs / 1000,
		1,
	);
	const rate = numberOption(
		options,
		'breakerFailureRatePercent',
		'Circuit Breaker Failure Rate (%)',
		BREAKER_DEFAULTS.failureRate * 100,
		0,
	);
	const window = numberOption(
		options,
		'breakerWindowSeconds',
		'Circuit Breaker Window (Seconds)',
		BREAKER_DEFAULTS.rateWindowMs / 1000,
		1,
	);
	for (const value of [threshold, cooldown, rate, window])
		if (typeof value === 'string') return value;
	const cooldownMs = Math.max(1, cooldown as number) * 1000;
	return {
		...BREAKER_DEFAULTS,
		failureThreshold: Math.max(1, threshold as number),
		openMs: cooldownMs,
		longOpenMs: cooldownMs * LONG_OPEN_FACTOR,
		failureRate: Math.min(100, Math.max(0, rate as number)) / 100,
		rateWindowMs: Math.max(1, window as number) * 1000,
	};
}
