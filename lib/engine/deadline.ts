import type { Clock } from '../clock/clock';

/**
 * A task's time limit on its clock, with the signal that stops the execution: what every
 * wait, store operation and call of the task is held to.
 */
export class Deadline {
	constructor(
		readonly clock: Clock,
		/** The instant on `clock` the task's time runs out. */
		readonly at: number,
		readonly signal?: AbortSignal,
	) {}

	/** A deadline `ms` from now, with no signal. */
	static after(clock: Clock, ms: number): Deadline {
		return new Deadline(clock, clock.now() + ms);
	}

	remainingMs(): number {
		return this.at - this.clock.now();
	}

	/** No time left for another call: the deadline passed, or the execution was stopped. */
	isOver(): boolean {
		return this.remainingMs() <= 0 || (this.signal?.aborted ?? false);
	}

	/** A pause that ends early when the execution is stopped. */
	sleep(ms: number): Promise<void> {
		return this.clock.sleep(ms, this.signal);
	}

	/** An operation's answer, or undefined when the deadline comes first (the operation goes on). */
	async race<T>(operation: Promise<T>): Promise<T | undefined> {
		let cancel = () => {};
		const expired = new Promise<undefined>((resolve) => {
			cancel = this.clock.limit(Math.max(0, this.remainingMs()), () => resolve(undefined));
		});
		try {
			return await Promise.race([operation, expired]);
		} finally {
			cancel();
		}
	}
}
