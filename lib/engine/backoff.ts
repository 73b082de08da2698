import { nonNegative } from './configError';
import { BACKOFF_DEFAULTS } from './defaults';
import type { BackoffConfig } from './types';

/** The engine's backoff when a chain names none. */
export const DEFAULT_BACKOFF: BackoffConfig = BACKOFF_DEFAULTS;

/** A chain's backoff settings, its gaps filled with the defaults; throws ConfigError on a bad one. */
export function backoffOf(settings: Partial<BackoffConfig> | undefined): BackoffConfig {
	const backoff = { ...DEFAULT_BACKOFF, ...settings };
	nonNegative(backoff.initialDelayMs, 'backoff.initialDelayMs');
	nonNegative(backoff.maxDelayMs, 'backoff.maxDelayMs');
	nonNegative(backoff.maxHintMs, 'backoff.maxHintMs');
	return backoff;
}

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
