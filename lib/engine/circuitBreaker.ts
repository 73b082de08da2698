/**
 * A circuit breaker per provider, model, endpoint and credential, its state kept in a store
 * so every execution (and every worker sharing the store) learns at once that a provider
 * is down.
 */
import { createHash } from 'node:crypto';

import { StoreGuard } from '../state/storeGuard';
import type { Admission, BreakerOutcome, BreakerPolicy, BreakerStore } from '../state/types';
import { realClock } from '../clock/clock';
import { BREAKER_DEFAULTS } from './defaults';
import type { Clock } from '../clock/clock';
import type { ErrorClass, TierConfig } from './types';

export const DEFAULT_BREAKER_POLICY: BreakerPolicy = BREAKER_DEFAULTS;

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

/** A base URL as the same endpoint however it was typed: no trailing slash. */
function endpointOf(baseUrl: string | undefined): string {
	return (baseUrl ?? '').trim().replace(/\/+$/, '');
}

export class CircuitBreaker {
	constructor(
		private readonly store: BreakerStore,
		readonly policy: BreakerPolicy = DEFAULT_BREAKER_POLICY,
		/** Its epoch time stamps the shared state, so cool-downs agree across workers. */
		private readonly clock: Clock = realClock,
		/** What a failing store means for the task (storeGuard.ts). */
		private readonly guard: StoreGuard = new StoreGuard(),
	) {}

	/**
	 * The circuit of a tier: `provider/model#endpoint`, where the endpoint part is a hash of
	 * the base URL and the API key. One rejected key, or one broken server, opens only its own
	 * circuit; the key itself never leaves this function.
	 */
	static circuitOf(tier: Pick<TierConfig, 'provider' | 'model' | 'baseUrl' | 'apiKey'>): string {
		const endpoint = createHash('sha256')
			.update(JSON.stringify([tier.provider, endpointOf(tier.baseUrl), tier.apiKey ?? '']))
			.digest('hex')
			.slice(0, 16);
		return `${tier.provider}/${tier.model}#${endpoint}`;
	}

	/** Whether a call may go out; a store that fails either fails the task or lets the call go. */
	admit(circuit: string): Promise<{ value: Admission; degraded?: string }> {
		return this.guard.before(
			'checking the circuit breaker',
			() => this.store.admit(circuit, this.policy, this.clock.epochMs()),
			'allow',
		);
	}

	/**
	 * Records a call's outcome. Best effort: returns why it was not recorded, if it was not.
	 * A probe that got any answer (even one that fails its checks) shows the provider is up,
	 * and ends the wait of the calls held behind it.
	 */
	async record(
		circuit: string,
		errorClass: ErrorClass | undefined,
		probe = false,
	): Promise<string | undefined> {
		const outcome = breakerOutcome(errorClass) ?? (probe ? 'success' : undefined);
		return outcome ? this.write(circuit, outcome) : undefined;
	}

	/** A test call stopped before it got an answer: the next caller tests the circuit. */
	release(circuit: string): Promise<string | undefined> {
		return this.write(circuit, 'released');
	}

	private write(circuit: string, outcome: BreakerOutcome): Promise<string | undefined> {
		return this.guard.after('recording the circuit breaker outcome', () =>
			this.store.record(circuit, outcome, this.policy, this.clock.epochMs()),
		);
	}

	/**
	 * Whether the circuit is cooling down now, so a retry on it would only be skipped; with
	 * `probing`, a circuit whose probe is in flight after a cool-down counts as open too.
	 */
	async isOpen(circuit: string, probing = false): Promise<boolean> {
		try {
			const snapshot = await this.store.snapshot(circuit, this.clock.epochMs());
			return snapshot.state === 'open' || (probing && snapshot.state === 'half_open');
		} catch {
			return false;
		}
	}

	/** An open circuit's failures and the end of its cool-down, for people; none if unknown. */
	async openState(circuit: string): Promise<{ failures: number; openUntil: number } | undefined> {
		try {
			const snapshot = await this.store.snapshot(circuit, this.clock.epochMs());
			return snapshot.openUntil > 0 ? snapshot : undefined;
		} catch {
			return undefined;
		}
	}
}
