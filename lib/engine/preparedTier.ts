import { createAdapter } from '../providers';
import { providerOf } from '../providers/registry';
import type { ProviderAdapter } from '../providers/types';
import { circuitOf } from './breaker/circuitName';
import { CHAIN_DEFAULTS } from './defaults';
import { drillAdapter, drillAffects } from './drill';
import { priceFor } from './pricing';
import type { ChainConfig, Price, TierConfig } from './types';

/** Extra time the SDK's own timeout gets behind the engine's, so the engine's always fires first. */
export const SDK_TIMEOUT_SLACK_MS = 1_000;

/** A tier ready to be called: its adapter and SDK client made once, its defaults filled in. */
export interface PreparedTier {
	config: TierConfig;
	/** 0-based position in the chain. */
	index: number;
	/** Its circuit breaker's name: provider, model, endpoint and credential. */
	circuit: string;
	adapter: ProviderAdapter;
	attempts: number;
	timeoutMs: number;
	/** Streamed tries: the longest wait for the first event, and between two events. */
	firstTokenTimeoutMs: number;
	stallTimeoutMs: number;
	/** Whether its provider continues a final assistant message (a broken stream's text). */
	prefill: boolean;
	price: Price | undefined;
	/** A member of a key pool: the 1-based position of its key. */
	key?: number;
	/**
	 * A tier with additional keys: one member per key, its own key first, each this tier
	 * with that key's adapter and circuit.
	 */
	pool?: PreparedTier[];
}

/**
 * The adapter of a tier when it is not the provider's own: a test's fake, or a connected
 * model's. Undefined: the provider's.
 */
export type AdapterFor = (tier: TierConfig, index: number) => ProviderAdapter | undefined;

export function prepareTiers(config: ChainConfig, adapterFor?: AdapterFor): PreparedTier[] {
	const drill = config.drill && config.drill !== 'off' ? config.drill : undefined;
	return config.tiers.map((tier, index) => {
		const timeoutMs = tier.timeoutMs ?? CHAIN_DEFAULTS.timeoutMs;
		// A drill's adapter fails without calling, whoever's model the tier has.
		const adapterWith = (apiKey: string | undefined) =>
			(drill && drillAffects(drill, index) ? drillAdapter(tier.provider, drill) : undefined) ??
			adapterFor?.(tier, index) ??
			createAdapter(tier.provider, {
				apiKey,
				baseUrl: tier.baseUrl || undefined,
				timeoutMs: timeoutMs + SDK_TIMEOUT_SLACK_MS,
			});
		const prepared: PreparedTier = {
			config: tier,
			index,
			circuit: circuitOf(tier),
			adapter: adapterWith(tier.apiKey),
			attempts: tier.attempts ?? CHAIN_DEFAULTS.attempts,
			timeoutMs,
			firstTokenTimeoutMs: tier.firstTokenTimeoutMs ?? CHAIN_DEFAULTS.firstTokenTimeoutMs,
			stallTimeoutMs: tier.stallTimeoutMs ?? CHAIN_DEFAULTS.stallTimeoutMs,
			prefill: providerOf(tier.provider).prefill,
			// A connected model is priced as its provider's would be (a local Ollama costs nothing).
			price: priceFor(tier.connected?.family ?? tier.provider, tier.model, tier.price),
		};
		const poolKeys = tier.poolKeys ?? [];
		if (poolKeys.length === 0) return prepared;
		const first: PreparedTier = { ...prepared, key: 1 };
		const others = poolKeys.map((apiKey, i) => ({
			...prepared,
			key: i + 2,
			circuit: circuitOf({ ...tier, apiKey }),
			adapter: adapterWith(apiKey),
		}));
		return { ...prepared, pool: [first, ...others] };
	});
}
