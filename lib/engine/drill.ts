/**
 * Drills: tiers fail as if their provider had returned an error, without being called, so
 * operators can watch failover and the human branch work from the editor. The engine
 * treats a drill failure like the real one (classification, retries, waits).
 */
import { providerOf } from '../providers/registry';
import type { ProviderAdapter } from '../providers/types';
import type { ErrorClass, ProviderName } from './types';

export const DRILL_MODES = ['off', 'primary_down', 'all_down', 'rate_limited'] as const;
export type DrillMode = (typeof DRILL_MODES)[number];

export class DrillError extends Error {
	constructor(
		readonly errorClass: ErrorClass,
		readonly httpStatus: number,
	) {
		super(`drill: simulated ${errorClass} (${httpStatus}), provider not called`);
		this.name = 'DrillError';
	}
}

/** Whether a drill makes the tier at this 0-based position fail. */
export function drillAffects(mode: DrillMode, index: number): boolean {
	if (mode === 'all_down') return true;
	return (mode === 'primary_down' || mode === 'rate_limited') && index === 0;
}

export function drillAdapter(
	provider: ProviderName,
	mode: Exclude<DrillMode, 'off'>,
): ProviderAdapter {
	const error = () =>
		mode === 'rate_limited'
			? new DrillError('rate_limited', 429)
			: new DrillError('overloaded', providerOf(provider).overloadedStatus);
	return {
		provider,
		complete: async () => {
			throw error();
		},
	};
}
