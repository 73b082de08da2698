/**
 * A clock for tests: time moves only when the test (or `run`) moves it, so waits, deadlines
 * and cool-downs land on exact instants however busy the machine is. Calls to the emulator
 * still go over real HTTP; they take no virtual time.
 */
import type { Clock } from '../../lib/clock/clock';
import { sleep } from '../../lib/clock/sleep';
import type { ProviderEmulator } from '../../lib/emulator/server';
import type { WireProvider } from '../../lib/emulator/wire';

interface Timer {
	at: number;
	order: number;
	/** 'limit' guards a call in flight; 'pause' is a wait with nothing under way. */
	kind: 'pause' | 'limit';
	callback: () => void;
}

/** When the work under test has not ended after this much real time, something is stuck. */
const GIVE_UP_MS = 60_000;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
const realPause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class VirtualClock implements Clock {
	private current = 0;
	private order = 0;
	private timers: Timer[] = [];
	/** Time limits that ran out, each of which cut a call short. */
	expiredLimits = 0;

	/** `epochStart` is the epoch time at virtual 0, for state stores that keep epoch instants. */
	constructor(readonly epochStart = Date.parse('2026-01-05T09:00:00Z')) {}

	now(): number {
		return this.current;
	}

	epochMs(): number {
		return this.epochStart + this.current;
	}

	sleep(ms: number, signal?: AbortSignal): Promise<void> {
		return sleep(ms, signal, (delay, callback) => this.add('pause', delay, callback));
	}

	limit(ms: number, onExpiry: () => void): () => void {
		return this.add('limit', ms, onExpiry);
	}

	/** The test's own timer, e.g. a cancellation at a chosen instant. */
	after(ms: number, callback: () => void): () => void {
		return this.add('pause', ms, callback);
	}

	/** Moves time forward to `instant`, firing every timer due by then, in order. */
	advanceTo(instant: number): void {
		for (let next = this.earliest(); next && next.at <= instant; next = this.earliest())
			this.fire(next);
		this.current = Math.max(this.current, instant);
	}

	/**
	 * Runs `work` to its end on virtual time. Whenever it waits on time alone, time jumps to
	 * the next timer. While a provider call is in flight (a time limit is pending), time stands
	 * still and the real call is awaited, unless `stalled` says that call can never answer by
	 * itself (the emulator holds it hanging): then time jumps too and the limit cuts it off.
	 */
	async run<T>(work: Promise<T>, stalled: () => boolean = () => false): Promise<T> {
		let settled = false;
		const watched = work.finally(() => {
			settled = true;
		});
		watched.catch(() => undefined); // rethrown below, to the caller
		const giveUpAt = performance.now() + GIVE_UP_MS;
		for (;;) {
			await nextTurn();
			if (settled) return await watched;
			const next = this.earliest();
			const callInFlight = this.timers.some((timer) => timer.kind === 'limit');
			if (next && (!callInFlight || stalled())) {
				this.fire(next);
				continue;
			}
			if (performance.now() > giveUpAt) {
				throw new Error(
					`the work did not end; virtual time ${this.current}, timers due at ${this.timers.map((t) => `${t.at} (${t.kind})`).join(', ') || 'none'}`,
				);
			}
			await realPause(1);
		}
	}

	private add(kind: Timer['kind'], ms: number, callback: () => void): () => void {
		const timer: Timer = {
			at: this.current + Math.max(0, ms),
			order: this.order++,
			kind,
			callback,
		};
		this.timers.push(timer);
		return () => {
			this.timers = this.timers.filter((t) => t !== timer);
		};
	}

	private earliest(): Timer | undefined {
		let first: Timer | undefined;
		for (const timer of this.timers)
			if (!first || timer.at < first.at || (timer.at === first.at && timer.order < first.order))
				first = timer;
		return first;
	}

	private fire(timer: Timer): void {
		this.timers = this.timers.filter((t) => t !== timer);
		this.current = Math.max(this.current, timer.at);
		if (timer.kind === 'limit') this.expiredLimits++;
		timer.callback();
	}
}

/**
 * For a provider scripted to hang on every call: its latest call is stuck once the emulator
 * has received it, i.e. once it has seen more calls than limits have cut short. Counts from
 * the emulator's last resetCounts.
 */
export function hangingOn(
	emulator: ProviderEmulator,
	provider: WireProvider,
	clock: VirtualClock,
): () => boolean {
	return () => emulator.count(provider) > clock.expiredLimits;
}
