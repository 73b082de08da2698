/**
 * The circuit breaker's policy, read from the Circuit Breaker options of a node that runs a
 * Model Chain.
 */
import type { IDataObject } from 'n8n-workflow';

import { BREAKER_DEFAULTS, LONG_OPEN_FACTOR } from '../../lib/engine/defaults';
import type { BreakerPolicy } from '../../lib/state/types';

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
