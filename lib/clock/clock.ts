/**
 * Time as the engine sees it, injected like `random`: production runs on the real clock,
 * tests on a virtual one, so deadlines, backoff waits and the breaker's cool-down land on
 * exact instants however busy the machine is.
 */
import { realSchedule, sleep } from './sleep';

export interface Clock {
	/** Milliseconds on a monotonic scale, for durations and deadlines within this process. */
	now(): number;
	/** Milliseconds since the epoch, for instants shared with other processes (the breaker's store). */
	epochMs(): number;
	/** A pause with nothing else under way: resolves after `ms`, or early when the signal aborts. */
	sleep(ms: number, signal?: AbortSignal): Promise<void>;
	/**
	 * A time limit on work in flight (a provider call): calls `onExpiry` after `ms` unless the
	 * returned function cancels it first. Kept apart from `sleep` because a virtual clock may
	 * jump over a pause at once, but must not expire a limit while the call could still answer.
	 */
	limit(ms: number, onExpiry: () => void): () => void;
}

export const realClock: Clock = {
	now: () => performance.now(),
	epochMs: () => Date.now(),
	sleep: (ms, signal) => sleep(ms, signal),
	limit: realSchedule,
};
