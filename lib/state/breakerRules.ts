/**
 * The circuit breaker's rules, as pure functions of its stored row. Every state store keeps
 * the row its own way and applies exactly these rules inside one atomic operation: the
 * Redis store as their Lua translation (redisScripts.ts), held to these functions by
 * test/state/redisStore.test.ts. A change here is made there too.
 */
import type { Admission, BreakerOutcome, BreakerPolicy, BreakerSnapshot } from './types';

export interface BreakerRow {
	state: 'closed' | 'open' | 'half_open';
	/** Consecutive transient failures. */
	failures: number;
	open_until: number;
	probe_until: number;
	/** The failure-rate window: when it began, its calls and its failures. */
	window_start: number;
	window_calls: number;
	window_failures: number;
	/** Not stored: no call to this circuit has ever been admitted. */
	fresh?: boolean;
}

export const CLOSED: BreakerRow = {
	state: 'closed',
	failures: 0,
	open_until: 0,
	probe_until: 0,
	window_start: 0,
	window_calls: 0,
	window_failures: 0,
};

/**
 * How long a circuit's first call holds the others back: long enough for a provider to turn
 * a call away (no quota, a bad key, overloaded: answered at once), far shorter than any
 * answer. A first call still running after it has in effect been accepted, and the others go
 * ahead; one that hangs, or whose n8n died, says nothing about the provider either.
 */
export const FIRST_CALL_HOLD_MS = 250;

/** A stored row, which may predate some fields; none stored is a circuit never called. */
export function rowOf(stored: Partial<BreakerRow> | undefined): BreakerRow {
	if (!stored) return { ...CLOSED, fresh: true };
	const row = { ...CLOSED, ...stored };
	delete row.fresh;
	return row;
}

/**
 * Whether a call may go out. A circuit's first call ever goes alone, and so does the probe
 * after a cool-down: calls arriving meanwhile are told to wait for its outcome rather than
 * all hitting a provider that may be out of quota, or skipping a provider that is back.
 * The first call's lease lives on a closed row, so it fails like any call: a passing
 * failure counts toward the threshold, and does not open the circuit by itself.
 */
export function admission(
	row: BreakerRow,
	policy: BreakerPolicy,
	now: number,
): { admission: Admission; row: BreakerRow; changed: boolean } {
	if (row.fresh)
		return {
			admission: 'probe',
			row: { ...CLOSED, probe_until: now + FIRST_CALL_HOLD_MS },
			changed: true,
		};
	if (row.state === 'closed')
		return { admission: now < row.probe_until ? 'wait' : 'allow', row, changed: false };
	if (row.state === 'open' && now < row.open_until)
		return { admission: 'open', row, changed: false };
	// Cool-down over (or half-open): one probe at a time.
	if (row.state === 'half_open' && now < row.probe_until)
		return { admission: 'wait', row, changed: false };
	return {
		admission: 'probe',
		row: { ...row, state: 'half_open', probe_until: now + policy.probeLeaseMs },
		changed: true,
	};
}

export function afterOutcome(
	stored: BreakerRow,
	outcome: BreakerOutcome,
	policy: BreakerPolicy,
	now: number,
): BreakerRow {
	// A circuit that was not closed starts a fresh window when it closes or opens. Any outcome
	// ends a first call's lease.
	const row = rowOf(stored);
	if (outcome === 'released') {
		// The next caller tests the circuit instead: at once, not after the lease.
		if (row.state === 'half_open')
			return { ...row, state: 'open', open_until: now, probe_until: 0 };
		return { ...row, probe_until: 0 };
	}
	if (outcome === 'success')
		return row.state === 'closed'
			? { ...row, failures: 0, probe_until: 0, ...counted(row, false, policy, now) }
			: CLOSED;
	if (outcome === 'hard')
		return {
			...CLOSED,
			state: 'open',
			failures: row.failures + 1,
			open_until: now + policy.longOpenMs,
		};
	const failures = row.failures + 1;
	const window = counted(row, true, policy, now);
	const rateTripped =
		policy.failureRate > 0 &&
		window.window_calls >= policy.rateMinCalls &&
		window.window_failures / window.window_calls >= policy.failureRate;
	// A failed probe re-opens at once; a closed circuit opens at the threshold or the rate.
	if (row.state === 'half_open' || failures >= policy.failureThreshold || rateTripped) {
		return { ...CLOSED, state: 'open', failures, open_until: now + policy.openMs };
	}
	return { ...row, failures, probe_until: 0, ...window };
}

/** The window's counts with one more call; a window that has ended starts again at `now`. */
function counted(
	row: BreakerRow,
	failed: boolean,
	policy: BreakerPolicy,
	now: number,
): Pick<BreakerRow, 'window_start' | 'window_calls' | 'window_failures'> {
	const current = now - row.window_start < policy.rateWindowMs;
	return {
		window_start: current ? row.window_start : now,
		window_calls: (current ? row.window_calls : 0) + 1,
		window_failures: (current ? row.window_failures : 0) + (failed ? 1 : 0),
	};
}

/**
 * Whether a circuit counts as open for people (the Resilience Alert): cooling down, or a probe
 * in flight. Past its cool-down with no probe since (no traffic), nothing says it is down.
 */
export function isOpen(row: BreakerRow, now: number): boolean {
	if (row.state === 'open') return now < row.open_until;
	return row.state === 'half_open' && now < row.probe_until;
}

/** How a row looks from outside: an open circuit past its cool-down is half-open. */
export function snapshotOf(row: BreakerRow, now: number): BreakerSnapshot {
	const state = row.state === 'open' && row.open_until <= now ? 'half_open' : row.state;
	return { state, failures: row.failures, openUntil: row.open_until };
}
