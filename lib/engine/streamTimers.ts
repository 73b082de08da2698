/**
 * The time limits on one streamed call: the whole try (the tier's timeout, or the task's
 * deadline), the first event, and the gap between two events. Whichever runs out first aborts
 * the call and says why; so does the execution being stopped.
 */
import type { Clock } from '../clock/clock';
import type { AbortCause } from './classifyError';

/** Why a streamed call was cut short: the engine's own limits, or the execution was stopped. */
export type StreamCut = AbortCause | 'first_token' | 'stall';

/** What a read answers when the call was cut short meanwhile. */
export const CUT = Symbol('cut');

export class StreamTimers {
	readonly controller = new AbortController();
	cause: StreamCut | undefined;
	private readonly cancelLimit: () => void;
	private cancelGap: () => void;
	private readonly cutShort: Promise<typeof CUT>;
	private readonly onOuterAbort = () => this.cut('cancelled');

	constructor(
		private readonly clock: Clock,
		limit: { ms: number; cause: AbortCause },
		private readonly gaps: { firstTokenMs: number; stallMs: number },
		private readonly outer: AbortSignal | undefined,
	) {
		this.cutShort = new Promise((resolve) =>
			this.controller.signal.addEventListener('abort', () => resolve(CUT), { once: true }),
		);
		this.cancelLimit = clock.limit(limit.ms, () => this.cut(limit.cause));
		this.cancelGap = clock.limit(gaps.firstTokenMs, () => this.cut('first_token'));
		outer?.addEventListener('abort', this.onOuterAbort, { once: true });
		if (outer?.aborted) this.cut('cancelled');
	}

	/** An event arrived: the wait for the next one starts now. */
	sawEvent(): void {
		this.cancelGap();
		this.cancelGap = this.clock.limit(this.gaps.stallMs, () => this.cut('stall'));
	}

	/**
	 * A read of the stream, or CUT as soon as a limit runs out: an adapter that does not
	 * notice the abort cannot hold the try past its limits.
	 */
	read<T>(next: Promise<T>): Promise<T | typeof CUT> {
		return Promise.race([next, this.cutShort]);
	}

	dispose(): void {
		this.cancelLimit();
		this.cancelGap();
		this.outer?.removeEventListener('abort', this.onOuterAbort);
	}

	private cut(cause: StreamCut): void {
		if (this.controller.signal.aborted) return;
		this.cause = cause;
		this.controller.abort();
	}
}
