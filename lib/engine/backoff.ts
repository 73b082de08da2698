import type { BackoffConfig } from './types';

/**
 * The first retry within 100 ms: a provider failing now and then answers it, without sending
 * the item to a weaker model. A provider that stays down is the circuit breaker's affair, and
 * a provider's own retry hint wins over these figures.
 */
export const DEFAULT_BACKOFF: BackoffConfig = {
	initialDelayMs: 100,
	maxDelayMs: 10_000,
	maxHintMs: 60_000,
};

/**
 * Exponential backoff with full jitter: a uniform wait in [0, min(max, initial * 2^(n-1))].
 * Full jitter spreads retries of many tasks hitting the same outage apart.
 */
export function fullJitterDelay(
	attempt: number,
	config: BackoffConfig,
	random: () => number = Math.random,
): number {
	const ceiling = Math.min(
		config.maxDelayMs,
		config.initialDelayMs * 2 ** Math.max(0, attempt - 1),
	);
	return Math.round(random() * ceiling);
}
