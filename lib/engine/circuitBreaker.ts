/**
 * A circuit breaker per provider and model, its state kept in a StateStore so every
 * execution (and every worker sharing the store) learns at once that a provider is down.
 */
import type { BreakerPolicy, StateStore } from '../state/types';
import { realClock } from './clock';
import type { Clock } from './clock';
import type { ErrorClass, ProviderName } from './types';

export const DEFAULT_BREAKER_POLICY: BreakerPolicy = {
	failureThreshold: 5,
	openMs: 30_000,
	longOpenMs: 300_000,
	probeLeaseMs: 30_000,
	failureRate: 0.5,
	rateWindowMs: 60_000,
	rateMinCalls: 10,
};

/** What a failure says about the provider's health. Bad output and bad requests say nothing. */
export function breakerOutcome(
	errorClass: ErrorClass | undefined,
): 'success' | 'transient' | 'hard' | undefined {
	if (errorClass === undefined) return 'success';
	switch (errorClass) {
		case 'rate_limited':
		case 'overloaded':
		case 'server_error':
		case 'timeout':
		case 'connection':
			return 'transient';
		case 'quota_exhausted':
		case 'auth':
			return 'hard';
		default:
			return undefined;
	}
}

export class CircuitBreaker {
	constructor(
		private readonly store: StateStore,
		readonly policy: BreakerPolicy = DEFAULT_BREAKER_POLICY,
		/** Its epoch time stamps the shared state, so cool-downs agree across workers. */
		private readonly clock: Clock = realClock,
	) {}

	static circuitOf(provider: ProviderName, model: string): string {
		return `${provider}/${model}`;
	}

	admit(circuit: string) {
		return this.store.admit(circuit, this.policy, this.clock.epochMs());
	}

	async record(circuit: string, errorClass: ErrorClass | undefined): Promise<void> {
		const outcome = breakerOutcome(errorClass);
		if (outcome) await this.store.record(circuit, outcome, this.policy, this.clock.epochMs());
	}
}
