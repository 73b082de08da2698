/**
 * What a call goes through before it may go out: the circuit breaker (circuitBreaker.ts), or,
 * with none (drills, a node with the breaker off), a gate that only watches the deadline.
 */
import type { Deadline } from '../deadline';
import type { BudgetState, ErrorClass, Price } from '../types';

/** What a call's result tells the breaker. */
export interface CallVerdict {
	failure?: { errorClass: ErrorClass };
	/** The execution was stopped during the call: nothing was learned about the provider. */
	cancelled?: boolean;
}

/** What a call sent through the gate came to. */
export type Passage<T> =
	| { kind: 'called'; result: T }
	/** The circuit is open: no call was made. */
	| { kind: 'open' }
	/** The task's time ran out at the gate: no call was made. */
	| { kind: 'deadline' }
	/** The rate limit leaves no room for the call before the deadline: no call was made. */
	| { kind: 'held'; waitMs: number }
	/** The spend budget has no room for the call's worst cost: no call was made. */
	| { kind: 'over_budget'; detail: string };

export interface PassOptions {
	/** The longest wait behind a test call in flight (the tier's timeout). */
	holdMs: number;
	/** Shared state could not be read or written: why, for the task's result. */
	onDegraded(reason: string): void;
	/** The call's estimated tokens, for pacing by a tokens-per-minute limit. */
	tokens?: number;
	/** How long the call waited for room under the rate limit. */
	onPaced?(heldMs: number): void;
	/** The longest wait for room the task accepts: *Max Retry Wait*. */
	maxWaitMs?: number;
	/** No tier follows: waiting for room, as long as the task has time, is its only chance. */
	lastTier?: boolean;
	/**
	 * The call is paced by the rate limit: a 429 for going too fast is the pacer's to learn
	 * from, and says nothing about the provider's health.
	 */
	paced?: boolean;
	/** The tier's price and the most tokens it may answer, for the call's worst cost. */
	price?: Price;
	maxOutputTokens?: number;
	/** The spend budget as it stands after the call was let out or refused, and after it settled. */
	onBudget?(state: BudgetState): void;
}

/**
 * A call let out by the gate, with the time it has left. A streamed call says `accepted()` when
 * its first event arrives: the provider is up, before the whole answer is in.
 */
export type GatedCall<T> = (remainingMs: number, accepted: () => void) => Promise<T>;

export interface CallGate {
	/** Lets `call` out when it may go, with the time it has left, and learns from its result. */
	pass<T extends CallVerdict>(
		circuit: string,
		deadline: Deadline,
		options: PassOptions,
		call: GatedCall<T>,
	): Promise<Passage<T>>;
	/** After a failure, before a retry: whether the circuit is open now, so a retry would be skipped. */
	openedBy(circuit: string, errorClass: ErrorClass, deadline: Deadline): Promise<boolean>;
	/** An open circuit's failures and next probe, for people; none if unknown. */
	describeOpen(circuit: string, deadline: Deadline): Promise<string | undefined>;
}

/** The gate without a breaker: every call goes while there is time. */
export const NO_BREAKER: CallGate = {
	async pass(_circuit, deadline, _options, call) {
		const remainingMs = deadline.remainingMs();
		if (remainingMs <= 0) return { kind: 'deadline' };
		return { kind: 'called', result: await call(remainingMs, () => undefined) };
	},
	async openedBy() {
		return false;
	},
	async describeOpen() {
		return undefined;
	},
};
