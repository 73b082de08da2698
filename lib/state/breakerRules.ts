/**
 * The circuit breaker's rules, as pure functions of its stored row. Every state store keeps
 * the row its own way and applies exactly these rules inside one atomic operation.
 */
import type { Admission, BreakerPolicy, BreakerSnapshot } from './types';

export interface BreakerRow {
	state: 'closed' | 'open' | 'half_open';
	failures: number;
	open_until: number;
	probe_until: number;
}

export const CLOSED: BreakerRow = { state: 'closed', failures: 0, open_until: 0, probe_until: 0 };

export function admission(
	row: BreakerRow,
	policy: BreakerPolicy,
	now: number,
): { admission: Admission; row: BreakerRow; changed: boolean } {
	if (row.state === 'closed') return { admission: 'allow', row, changed: false };
	if (row.state === 'open' && now < row.open_until)
		return { admission: 'open', row, changed: false };
	// Cool-down over (or half-open): one probe at a time.
	if (row.state === 'half_open' && now < row.probe_until)
		return { admission: 'open', row, changed: false };
	return {
		admission: 'probe',
		row: { ...row, state: 'half_open', probe_until: now + policy.probeLeaseMs },
		changed: true,
	};
}

export function afterOutcome(
	row: BreakerRow,
	outcome: 'success' | 'transient' | 'hard',
	policy: BreakerPolicy,
	now: number,
): BreakerRow {
	if (outcome === 'success') return CLOSED;
	if (outcome === 'hard')
		return {
			state: 'open',
			failures: row.failures + 1,
			open_until: now + policy.longOpenMs,
			probe_until: 0,
		};
	const failures = row.failures + 1;
	// A failed probe re-opens at once; a closed circuit opens at the threshold.
	if (row.state === 'half_open' || failures >= policy.failureThreshold) {
		return { state: 'open', failures, open_until: now + policy.openMs, probe_until: 0 };
	}
	return { ...row, failures };
}

/** How a row looks from outside: an open circuit past its cool-down is half-open. */
export function snapshotOf(row: BreakerRow, now: number): BreakerSnapshot {
	const state = row.state === 'open' && row.open_until <= now ? 'half_open' : row.state;
	return { state, failures: row.failures, openUntil: row.open_until };
}
