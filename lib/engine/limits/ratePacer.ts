/**
 * Pacing by the provider's rate limits: before a call goes out it takes a place in its
 * circuit's pace (state/pacingRules.ts), kept in the state store so every execution and
 * worker on the same key shares it, and waits there (never past the task's deadline) rather
 * than send the call into a certain 429. Each answer's rate-limit headers, and each 429,
 * teach the pace what the provider allows.
 *
 * A gate around the breaker's (PacedGate): the pace first, then the breaker, then the call.
 */
import { randomUUID } from 'node:crypto';

import type { Clock } from '../../clock/clock';
import { realClock } from '../../clock/clock';
import type { RateLimitReading } from '../../providers/rateLimits';
import type { CompletionRequest } from '../../providers/types';
import { StoreGuard } from '../../state/storeGuard';
import type { PaceOutcome, PacingStore } from '../../state/types';
import type { Deadline } from '../deadline';
import type { ClassifiedFailure } from '../types';
import type { CallGate, CallVerdict, GatedCall, Passage, PassOptions } from '../breaker/callGate';

/**
 * A request's tokens as a provider's limiter first counts them: about four characters a
 * token, over the whole conversation. Its answer's headers then say what it really took.
 */
export function promptTokens(request: CompletionRequest): number {
	let chars = 0;
	for (const message of request.messages) chars += message.content.length;
	for (const tool of request.tools ?? []) chars += JSON.stringify(tool).length;
	return Math.ceil(chars / 4);
}

/** What a call's result tells the pacer, beyond what it tells the breaker. */
export interface PacedVerdict extends CallVerdict {
	failure?: Pick<ClassifiedFailure, 'errorClass' | 'rateLimit' | 'retryHint'>;
	response?: { rateLimit?: RateLimitReading };
}

/** What a circuit's pace leaves now, as a key pool weighs its keys (keyPool.ts). */
export interface Headroom {
	/** Requests its provider says are left in the minute; Infinity when it has not said. */
	requestsLeft: number;
	/** Calls in flight on it now. */
	inFlight: number;
	/** Whether a call would go now: no hold after a 429, a free slot, requests and tokens left. */
	roomNow: boolean;
}

/** A place in the pace: the call may go, or it could not within the deadline. */
type Place = { kind: 'go'; id?: string } | { kind: 'deadline' } | { kind: 'held'; waitMs: number };

export class RatePacer {
	constructor(
		private readonly store: PacingStore,
		private readonly clock: Clock = realClock,
		private readonly guard: StoreGuard = new StoreGuard('proceed'),
	) {}

	/**
	 * Waits until the circuit has room for the call, patiently but not forever: when another
	 * tier could answer, no longer than *Max Retry Wait*, one try's timeout or half the time
	 * the task has left, so a tier that stays full is passed over (`held`) while the next can
	 * still answer; on the last tier, as long as the task has time. A store that fails lets the
	 * call go unpaced: pacing spares 429s, and is never a reason to fail an item.
	 */
	async take(circuit: string, deadline: Deadline, options: PassOptions): Promise<Place> {
		const id = randomUUID();
		const request = { id, tokens: options.tokens ?? 0, leaseMs: options.holdMs };
		const started = this.clock.now();
		const patience = options.lastTier
			? Number.POSITIVE_INFINITY
			: Math.min(
					options.maxWaitMs ?? Number.POSITIVE_INFINITY,
					options.holdMs,
					deadline.remainingMs() / 2,
				);
		// Bounded: every turn either goes, gives up, or sleeps less than the patience left.
		for (;;) {
			const asking = this.guard.before(
				'pacing by the rate limit',
				() => this.store.acquirePace(circuit, request, this.clock.epochMs()),
				0,
			);
			const asked = await deadline.race(asking);
			if (!asked) {
				// A place granted after the task gave up would hold a slot until its lease ends.
				void asking
					.then((late) =>
						late.value === 0 && !late.degraded ? this.settle(circuit, id, undefined) : undefined,
					)
					.catch(() => undefined);
				return { kind: 'deadline' };
			}
			if (asked.degraded) {
				options.onDegraded(asked.degraded);
				return { kind: 'go' };
			}
			const waitMs = asked.value;
			const heldMs = this.clock.now() - started;
			if (waitMs <= 0) {
				options.onPaced?.(heldMs);
				return { kind: 'go', id };
			}
			if (deadline.isOver()) return { kind: 'deadline' };
			if (heldMs + waitMs > patience || waitMs >= deadline.remainingMs()) {
				options.onPaced?.(heldMs);
				return { kind: 'held', waitMs };
			}
			await deadline.sleep(waitMs);
		}
	}

	/** What the circuit's pace leaves now; unknown when the store cannot say. */
	async headroom(circuit: string): Promise<Headroom | undefined> {
		const now = this.clock.epochMs();
		try {
			const pace = await this.store.paceSnapshot(circuit, now);
			const requestsLeft = pace.requestsLeft ?? Number.POSITIVE_INFINITY;
			const roomNow =
				pace.holdUntil <= now &&
				(pace.window <= 0 || pace.inFlight < pace.window) &&
				requestsLeft > 0 &&
				(pace.tokensLeft ?? 1) > 0;
			return { requestsLeft, inFlight: pace.inFlight, roomNow };
		} catch {
			return undefined;
		}
	}

	/** Frees the call's place and teaches the pace what its answer said. Best effort. */
	settle(
		circuit: string,
		id: string,
		verdict: PacedVerdict | undefined,
	): Promise<string | undefined> {
		return this.guard.after('recording the rate limit', () =>
			this.store.settlePace(circuit, outcomeOf(id, verdict), this.clock.epochMs()),
		);
	}
}

/** A call's result as the pace reads it. */
export function outcomeOf(id: string, verdict: PacedVerdict | undefined): PaceOutcome {
	const failure = verdict?.failure;
	const reading = verdict?.response?.rateLimit ?? failure?.rateLimit;
	const limited = failure?.errorClass === 'rate_limited';
	return {
		id,
		result:
			!verdict || verdict.cancelled
				? 'other'
				: limited
					? 'limited'
					: failure
						? 'other'
						: 'answered',
		...(reading?.requests ? { requests: reading.requests } : {}),
		...(reading?.tokens ? { tokens: reading.tokens } : {}),
		...(limited && failure?.retryHint ? { retryAfterMs: failure.retryHint.ms } : {}),
	};
}

/** The breaker's gate (or none) with the pace in front of it. */
export class PacedGate implements CallGate {
	constructor(
		private readonly inner: CallGate,
		private readonly pacer: RatePacer,
	) {}

	async pass<T extends CallVerdict>(
		circuit: string,
		deadline: Deadline,
		options: PassOptions,
		call: GatedCall<T>,
	): Promise<Passage<T>> {
		const place = await this.pacer.take(circuit, deadline, options);
		if (place.kind !== 'go') return place;
		if (!place.id) return this.inner.pass(circuit, deadline, options, call);
		let passage: Passage<T> | undefined;
		try {
			passage = await this.inner.pass(circuit, deadline, { ...options, paced: true }, call);
			return passage;
		} finally {
			const result = passage?.kind === 'called' ? (passage.result as PacedVerdict) : undefined;
			const unrecorded = await deadline.race(this.pacer.settle(circuit, place.id, result));
			if (unrecorded) options.onDegraded(unrecorded);
		}
	}

	/** A 429 for going too fast opens nothing here: the pace holds the calls instead. */
	openedBy: CallGate['openedBy'] = (circuit, errorClass, deadline) =>
		errorClass === 'rate_limited'
			? Promise.resolve(false)
			: this.inner.openedBy(circuit, errorClass, deadline);

	describeOpen: CallGate['describeOpen'] = (...args) => this.inner.describeOpen(...args);
}
