/**
 * The tiers a task passes over before any call: small rules, each asked of every tier in
 * turn, that leave the chain's run loop to the calls.
 */
import type { PreparedTier } from './preparedTier';
import type { Criticality, ErrorClass } from './types';

/** A high-stakes task never answers from a different (weaker) model than the first tier's. */
export function degradeBlocked(
	criticality: Criticality | undefined,
	tier: PreparedTier,
	first: PreparedTier,
): boolean {
	return (
		criticality === 'high_stakes' && tier.index > 0 && tier.config.model !== first.config.model
	);
}

/**
 * After context_too_long, only tiers with a larger declared window are worth a try: why this
 * one is not, if it is not.
 */
export function belowContextFloor(
	tier: PreparedTier,
	floor: number | undefined,
): string | undefined {
	const window = tier.config.contextWindow;
	if (floor === undefined || window === undefined || window > floor) return undefined;
	return `skipped: context window ${window} is not larger than ${floor}`;
}

/** The floor once a tier has given up: raised to its window when the prompt was too long for it. */
export function raiseContextFloor(
	floor: number | undefined,
	tier: PreparedTier,
	errorClass: ErrorClass | undefined,
): number | undefined {
	if (errorClass !== 'context_too_long') return floor;
	return Math.max(floor ?? 0, tier.config.contextWindow ?? 0) || floor;
}
