import type { BreakerPolicy } from '../../lib/state/types';

/** A small breaker for store tests: opens after 3 failures in a row, for 1 s. */
export const TEST_BREAKER_POLICY: BreakerPolicy = {
	failureThreshold: 3,
	openMs: 1_000,
	longOpenMs: 60_000,
	probeLeaseMs: 500,
	failureRate: 0,
	rateWindowMs: 10_000,
	rateMinCalls: 4,
};
