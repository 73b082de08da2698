/**
 * Text handed over by the engine's callback as it arrives, read by an async generator at its
 * own pace: what the callback pushes waits here until the reader takes it, and the reader
 * waits here until the next piece or the end.
 */
export class TextQueue implements AsyncIterable<string> {
	private readonly waiting: string[] = [];
	private ended = false;
	/** The reader waiting for the next piece, if it is waiting. */
	private wake: (() => void) | undefined;

	push(text: string): void {
		if (this.ended || text === '') return;
		this.waiting.push(text);
		this.notify();
	}

	/** No more text: the reader gets what is left, then the end. */
	end(): void {
		this.ended = true;
		this.notify();
	}

	async *[Symbol.asyncIterator](): AsyncIterator<string> {
		for (;;) {
			const next = this.waiting.shift();
			if (next !== undefined) {
				yield next;
				continue;
			}
			if (this.ended) return;
			await new Promise<void>((resolve) => (this.wake = resolve));
		}
	}

	private notify(): void {
		const wake = this.wake;
		this.wake = undefined;
		wake?.();
	}
}
