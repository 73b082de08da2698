/**
 * What every adapter's stream() shares: the answer built up from its deltas (so `done` carries
 * what complete() would have returned), tool calls assembled from argument fragments and
 * passed on only whole, and the two ways a stream can end without its answer.
 */
import { MalformedResponseError } from './httpError';
import { newToolCallId, parseToolArguments } from './messageMapping';
import type { CompletionResponse, StreamEvent, ToolCall } from './types';

/** One tool call as its fragments arrive: id and name once, arguments as JSON text in pieces. */
export interface ToolCallPart {
	id?: string | null;
	name?: string | null;
	/** A piece of the arguments' JSON text. */
	arguments?: string | null;
	/** Arguments sent whole as an object, used when no JSON text came. */
	input?: unknown;
}

interface PendingCall {
	id: string;
	name: string;
	json: string;
	input?: unknown;
}

/**
 * Tool calls keyed by the provider's own handle for them (Anthropic's block index, OpenAI's
 * call index): fragments join their call, and a call leaves only when the provider says it is
 * complete.
 */
export class ToolCallAssembler {
	private readonly pending = new Map<number | string, PendingCall>();

	constructor(private readonly provider: string) {}

	add(key: number | string, part: ToolCallPart): void {
		let call = this.pending.get(key);
		if (!call) {
			call = { id: '', name: '', json: '' };
			this.pending.set(key, call);
		}
		// Some servers repeat the id and name in every fragment: the first one counts.
		if (part.id && !call.id) call.id = part.id;
		if (part.name && !call.name) call.name = part.name;
		if (part.arguments) call.json += part.arguments;
		if (part.input !== undefined) call.input = part.input;
	}

	/** The call under this key, whole; undefined if none was started (or it had no name). */
	finish(key: number | string): ToolCall | undefined {
		const call = this.pending.get(key);
		if (!call) return undefined;
		this.pending.delete(key);
		if (!call.name) return undefined;
		const raw = call.json.trim() !== '' ? call.json : call.input;
		return {
			id: call.id || newToolCallId(),
			name: call.name,
			arguments: parseToolArguments(this.provider, raw),
		};
	}

	/** Every call still open, in the order they started. */
	finishAll(): ToolCall[] {
		return [...this.pending.keys()].flatMap((key) => this.finish(key) ?? []);
	}
}

/** The answer so far: text as sent, tool calls as passed on. */
export class StreamedAnswer {
	private readonly parts: string[] = [];
	private readonly calls: ToolCall[] = [];

	/** A text event for a delta, or none for an empty one. */
	text(delta: string | null | undefined): StreamEvent[] {
		if (!delta) return [];
		this.parts.push(delta);
		return [{ type: 'text', text: delta }];
	}

	toolCall(call: ToolCall | undefined): StreamEvent[] {
		if (!call) return [];
		this.calls.push(call);
		return [{ type: 'tool_call', call }];
	}

	get joinedText(): string {
		return this.parts.join('');
	}

	/** The last event: the whole answer, as complete() would return it. */
	done(rest: Omit<CompletionResponse, 'text' | 'toolCalls'>): StreamEvent {
		const toolCalls = this.calls.slice();
		return {
			type: 'done',
			response: {
				text: this.joinedText,
				...(toolCalls.length > 0 ? { toolCalls } : {}),
				...rest,
			},
		};
	}
}

/**
 * The SDKs end a stream quietly when its signal aborts; the caller must still learn that the
 * answer did not arrive. A stream that closed before the provider's last event is a broken
 * answer, worth another try like any garbled body.
 */
export function assertStreamEnded(provider: string, signal: AbortSignal, finished: boolean): void {
	if (signal.aborted) throw abortReason(signal);
	if (!finished)
		throw new MalformedResponseError(provider, 'a stream that ended before its answer did');
}

function abortReason(signal: AbortSignal): unknown {
	return signal.reason ?? new DOMException('This operation was aborted', 'AbortError');
}
