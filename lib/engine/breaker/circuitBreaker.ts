/**
 * A circuit breaker per provider, model, endpoint and credential, its state kept in a store
 * so every execution (and every worker sharing the store) learns at once that a provider
 * is down. Its rules live with the stores (state/breakerRules.ts); this is the engine's side:
 * the gate every call passes, and what the engine tells the store.
 */
import { realClock } from '../../clock/clock';
import type { Clock } from '../../clock/clock';
import { StoreGuard } from '../../state/storeGuard';
import type { Admission, BreakerOutcome, BreakerPolicy, BreakerStore } from '../../state/types';
import { Deadline } from '../deadline';
import { BREAKER_DEFAULTS } from '../defaults';
import type { ErrorClass } from '../types';
import { breakerOutcome } from './breakerOutcome';
import type { CallGate, CallVerdict, GatedCall, Passage, PassOptions } from './callGate';
import { circuitOf } from './circuitName';

export { breakerOutcome } from './breakerOutcome';

export const DEFAULT_BREAKER_POLICY: BreakerPolicy = BREAKER_DEFAULTS;

/** The longest pause between two looks at a circuit whose test call is in flight. */
const GATE_POLL_MAX_MS = 100;

/** How long a skip waits to learn the open circuit's failures and next probe. */
const DESCRIBE_WAIT_MS = 1_000;

export class CircuitBreaker implements CallGate {
	constructor(
		private readonly store: BreakerStore,
		readonly policy: BreakerPolicy = DEFAULT_BREAKER_POLICY,
		/** Its epoch time stamps the shared state, so cool-downs agree across workers. */
		private readonly clock: Clock = realClock,
		/** What a failing store means for the task (storeGuard.ts). */
		private readonly guard: StoreGuard = new StoreGuard(),
	) {}

	/** The circuit of a tier: `provider/model#endpoint` (circuitName.ts). */
	static circuitOf = circuitOf;

	/**
	 * The gate: admits the call (waiting behind a test call in flight), runs it with the time
	 * left, and records its outcome, or releases a test call that got none. Never waits past
	 * the deadline, for the store either: a record still under way then goes on meanwhile.
	 */
	async pass<T extends CallVerdict>(
		circuit: string,
		deadline: Deadline,
		options: PassOptions,
		call: GatedCall<T>,
	): Promise<Passage<T>> {
		const gate = await this.admitWithin(circuit, deadline, options);
		if (gate === 'deadline' || gate === 'open') return { kind: gate };
		const probe = gate === 'probe';
		// Measured after the gate: time spent there (and in the store) is the task's too.
		const remainingMs = deadline.remainingMs();
		if (remainingMs <= 0) {
			if (probe) await this.release(circuit);
			return { kind: 'deadline' };
		}
		let accepted: Promise<string | undefined> | undefined;
		const result = await call(remainingMs, () => {
			// A test call's first streamed event shows the provider is up: the calls held
			// behind it go now, not when its whole answer is in.
			if (probe && !accepted) accepted = this.record(circuit, undefined, true);
		});
		const recording = accepted
			? accepted.then(
					(unrecorded) => unrecorded ?? this.afterAccepted(circuit, healthOf(result, options)),
				)
			: this.recordResult(circuit, healthOf(result, options), probe);
		const unrecorded = recording ? await deadline.race(recording) : undefined;
		if (unrecorded) options.onDegraded(unrecorded);
		return { kind: 'called', result };
	}

	/**
	 * Waits at the gate until a call may go out. Behind a test call in flight (a circuit's
	 * first call, or the probe after a cool-down) it waits for that call's outcome, as long as
	 * the deadline and `holdMs` allow: a healthy but slow provider is never passed over. Only a
	 * circuit that actually opened is 'open'.
	 */
	private async admitWithin(
		circuit: string,
		deadline: Deadline,
		options: PassOptions,
	): Promise<'allow' | 'probe' | 'open' | 'deadline'> {
		const { clock } = deadline;
		const waitUntil = Math.min(deadline.at, clock.now() + options.holdMs);
		for (let pause = 5; ; pause = Math.min(pause * 2, GATE_POLL_MAX_MS)) {
			// A slow store (Redis far away, or failing) may not hold the task past its deadline.
			const admitting = this.admit(circuit);
			const gate = await deadline.race(admitting);
			if (!gate) {
				// A test call granted after the task gave up must not hold the circuit for others.
				void admitting
					.then((late) => (late.value === 'probe' ? this.release(circuit) : undefined))
					.catch(() => undefined);
				return 'deadline';
			}
			if (gate.degraded) options.onDegraded(gate.degraded);
			if (gate.value !== 'wait') return gate.value;
			const now = clock.now();
			if (deadline.signal?.aborted || now >= deadline.at) return 'deadline';
			if (now >= waitUntil) {
				// A test call still unanswered after a whole try's time: an opened circuit stays
				// passed over; behind a first call, nothing says the provider is down.
				return (await deadline.race(this.isOpen(circuit, true))) ? 'open' : 'allow';
			}
			await clock.sleep(Math.min(pause, waitUntil - now), deadline.signal);
		}
	}

	/** A call's outcome for the breaker. A stopped execution says nothing about the provider's health. */
	private recordResult(
		circuit: string,
		result: CallVerdict,
		probe: boolean,
	): Promise<string | undefined> | undefined {
		if (!result.cancelled) return this.record(circuit, result.failure?.errorClass, probe);
		return probe ? this.release(circuit) : undefined;
	}

	/** A test call recorded as a success at its first event, whose stream then broke: a failure too. */
	private afterAccepted(circuit: string, result: CallVerdict): Promise<string | undefined> {
		if (result.cancelled || !result.failure) return Promise.resolve(undefined);
		return this.record(circuit, result.failure.errorClass);
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

	/** After a failure that counts: whether it, or another task's, opened the circuit. */
	async openedBy(circuit: string, errorClass: ErrorClass, deadline: Deadline): Promise<boolean> {
		if (breakerOutcome(errorClass) === undefined) return false;
		return (await deadline.race(this.isOpen(circuit))) ?? false;
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

	/** "5 failures, next probe at 10:42:35 UTC"; waits a second at most, past the deadline too. */
	async describeOpen(circuit: string, deadline: Deadline): Promise<string | undefined> {
		const open = await Deadline.after(deadline.clock, DESCRIBE_WAIT_MS).race(
			this.openState(circuit),
		);
		return open
			? `${open.failures} ${open.failures === 1 ? 'failure' : 'failures'}, next probe at ${clockTime(open.openUntil)}`
			: undefined;
	}
}

/** A paced call's 429 for going too fast is an answer: the provider is up. */
function healthOf(result: CallVerdict, options: PassOptions): CallVerdict {
	return options.paced && result.failure?.errorClass === 'rate_limited'
		? { cancelled: result.cancelled }
		: result;
}

/** A time of day for people reading a reason, in UTC (the engine does not know their zone). */
function clockTime(epochMs: number): string {
	return `${new Date(epochMs).toISOString().slice(11, 19)} UTC`;
}
