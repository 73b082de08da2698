/**
 * Streaming providers as plain async generators, for the engine's streaming tests: each call
 * plays the next script (the last one repeats), paced on the clock the test gives, and every
 * step goes into a shared log so tests can assert what happened in which order.
 */
import type { Clock } from '../../lib/clock/clock';
import type {
	CallOptions,
	CompletionRequest,
	CompletionResponse,
	FinishReason,
	ProviderAdapter,
	StreamEvent,
	ToolCall,
} from '../../lib/providers/types';

/** One call's script. */
export type Play =
	/** Fails before any event, e.g. `{ status: 529 }`. */
	| { fail: unknown; afterMs?: number }
	/** Accepts the call, then sends nothing until the engine gives up on it. */
	| { silent: true }
	| {
			chunks: string[];
			/** Before the first chunk, and between two chunks (the n-th gap, from 1, when a function). */
			firstMs?: number;
			gapMs?: number | ((n: number) => number);
			/** After the chunks: the answer's end (default), nothing more, or an error. */
			end?: 'done' | 'stall' | { error: unknown };
			finish?: FinishReason;
			/** Sent as tool_call events after the chunks, and in the finished answer. */
			toolCalls?: ToolCall[];
	  };

/** An error as an SDK throws it for an HTTP status. */
export function httpError(status: number, message = `HTTP ${status}`): Error {
	return Object.assign(new Error(message), { status });
}

function abortError(): Error {
	return Object.assign(new Error('Request was aborted.'), { name: 'AbortError' });
}

export class FakeStream implements ProviderAdapter {
	readonly requests: CompletionRequest[] = [];
	private call = 0;

	constructor(
		/** Names the fake in the log. */
		readonly name: string,
		private readonly plays: Play[],
		private readonly clock: Clock,
		readonly log: string[] = [],
		readonly provider = 'anthropic',
	) {}

	get calls(): number {
		return this.call;
	}

	async complete(request: CompletionRequest, options: CallOptions): Promise<CompletionResponse> {
		for await (const event of this.stream(request, options))
			if (event.type === 'done') return event.response;
		throw new Error('the stream ended before the answer was complete');
	}

	async *stream(request: CompletionRequest, options: CallOptions): AsyncIterable<StreamEvent> {
		const play = this.plays[Math.min(this.call, this.plays.length - 1)];
		this.call++;
		this.requests.push(request);
		const { signal } = options;
		if ('fail' in play) {
			await this.wait(play.afterMs ?? 0, signal);
			this.log.push(`${this.name} failed`);
			throw play.fail;
		}
		if ('silent' in play) return await this.hang(signal);
		for (const [index, chunk] of play.chunks.entries()) {
			const gap = typeof play.gapMs === 'function' ? play.gapMs(index) : (play.gapMs ?? 0);
			await this.wait(index === 0 ? (play.firstMs ?? 0) : gap, signal);
			this.log.push(`${this.name} sent ${chunk}`);
			yield { type: 'text', text: chunk };
		}
		for (const call of play.toolCalls ?? []) yield { type: 'tool_call', call };
		const end = play.end ?? 'done';
		if (end === 'stall') return await this.hang(signal);
		if (end !== 'done') {
			this.log.push(`${this.name} broke`);
			throw end.error;
		}
		yield { type: 'done', response: this.answer(play.chunks.join(''), play) };
	}

	private answer(text: string, play: { finish?: FinishReason; toolCalls?: ToolCall[] }) {
		return {
			text,
			finish: play.finish ?? 'stop',
			...(play.toolCalls ? { toolCalls: play.toolCalls } : {}),
			usage: { inputTokens: 10, outputTokens: text.length },
			model: this.name,
		};
	}

	private async wait(ms: number, signal: AbortSignal): Promise<void> {
		await this.clock.sleep(ms, signal);
		if (signal.aborted) throw abortError();
	}

	private async hang(signal: AbortSignal): Promise<never> {
		this.log.push(`${this.name} silent`);
		await new Promise<void>((resolve) => {
			if (signal.aborted) resolve();
			signal.addEventListener('abort', () => resolve(), { once: true });
		});
		throw abortError();
	}
}

/** An adapter with complete() alone: it answers whole. */
export function wholeAnswer(text: string): ProviderAdapter {
	return {
		provider: 'anthropic',
		complete: async () => ({
			text,
			finish: 'stop',
			usage: { inputTokens: 1, outputTokens: 1 },
			model: 'whole',
		}),
	};
}
