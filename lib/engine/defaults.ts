/**
 * Every default of a chain run, in one place: the engine falls back to these, the node
 * descriptions show them as parameter defaults, and the parameter reader fills unset
 * options with them. Change a default here and all three follow.
 */
import type { BackoffConfig } from './types';
import type { BreakerPolicy } from '../state/types';

export const CHAIN_DEFAULTS = {
	/** Tries per tier, the first included. */
	attempts: 3,
	/** One try. */
	timeoutMs: 60_000,
	/** A streamed try that has sent nothing by then is abandoned. */
	firstTokenTimeoutMs: 30_000,
	/** A gap this long between two pieces of a streamed answer breaks the stream. */
	stallTimeoutMs: 30_000,
	/** One item across all tiers, waits included. */
	deadlineMs: 120_000,
	maxOutputTokens: 1024,
	temperature: 0.2,
	/** An answer cut off at the token limit counts as a failure. */
	requireComplete: true,
} as const;

/**
 * The first retry within 100 ms: a provider failing now and then answers it, without sending
 * the item to a weaker model. A provider that stays down is the circuit breaker's affair, and
 * a provider's own retry hint wins over these figures.
 */
export const BACKOFF_DEFAULTS: BackoffConfig = {
	initialDelayMs: 100,
	maxDelayMs: 10_000,
	maxHintMs: 60_000,
};

export const BREAKER_DEFAULTS: BreakerPolicy = {
	failureThreshold: 5,
	openMs: 30_000,
	/** Quota and auth failures: they rarely heal within a normal cool-down. */
	longOpenMs: 300_000,
	probeLeaseMs: 30_000,
	failureRate: 0.5,
	rateWindowMs: 60_000,
	rateMinCalls: 10,
};

/** How much longer than the normal cool-down a hard failure (quota, auth) keeps a circuit open. */
export const LONG_OPEN_FACTOR = BREAKER_DEFAULTS.longOpenMs / BREAKER_DEFAULTS.openMs;

/** What a node run does around the chain. */
export const RUN_DEFAULTS = {
	/** No spend budget. */
	budgetUsd: 0,
	budgetPeriod: 'day',
	/** Empty: the workflow's own budget. */
	budgetName: '',
	/** Empty: the workflow's time zone. */
	budgetTimeZone: '',
	/** Items sent at once: as many as n8n's own Basic LLM Chain sends (its Batch Size). */
	concurrency: 5,
	idempotencyTtlHours: 24,
	circuitBreaker: true,
	/** Calls wait for room under the provider's rate limits, read from its headers. */
	paceByRateLimits: true,
	recordMetrics: true,
} as const;
