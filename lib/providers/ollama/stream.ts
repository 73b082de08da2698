/**
 * Ollama's streamed /api/chat, one JSON object a line, read into the shared events: content
 * as it comes, tool calls (Ollama sends each whole), and the counts on the `done` line.
 */
import { MalformedResponseError, ProviderHttpError } from '../httpError';
import { newToolCallId, parseToolArguments } from '../messageMapping';
import { StreamedAnswer, assertStreamEnded } from '../streamAssembly';
import type { FinishReason, StreamEvent, ToolCall } from '../types';

export interface OllamaToolCall {
	id?: string;
	function?: { name?: string; arguments?: unknown };
}

/** One answer whole, or one line of a stream (the last has `done` and the counts). */
export interface OllamaChatResponse {
	model?: string;
	message?: { content?: string; tool_calls?: OllamaToolCall[] };
	done?: boolean;
	done_reason?: string;
	prompt_eval_count?: number;
	eval_count?: number;
	error?: unknown;
}

const FINISH: Record<string, FinishReason> = { stop: 'stop', length: 'length' };

export function finishOf(doneReason: string | undefined): FinishReason {
	return FINISH[doneReason ?? 'stop'] ?? 'other';
}

export function toolCallsOf(chat: OllamaChatResponse): ToolCall[] {
	return (chat.message?.tool_calls ?? []).flatMap((call) =>
		call.function?.name
			? [
					{
						id: call.id || newToolCallId(),
						name: call.function.name,
						arguments: parseToolArguments('ollama', call.function.arguments),
					},
				]
			: [],
	);
}

/** The body's lines as they arrive, the last one even without its newline. */
async function* lines(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
	const decoder = new TextDecoder();
	const reader = body.getReader();
	let buffer = '';
	try {
		for (;;) {
			const { done, value } = await reader.read();
			if (done) break;
			buffer += decoder.decode(value, { stream: true });
			let newline = buffer.indexOf('\n');
			while (newline >= 0) {
				yield buffer.slice(0, newline);
				buffer = buffer.slice(newline + 1);
				newline = buffer.indexOf('\n');
			}
		}
		yield buffer + decoder.decode();
	} finally {
		// A reader that stops early (the answer ended, or its consumer left) closes the connection.
		reader.cancel().catch(() => undefined);
	}
}

/**
 * A line saying `{"error": …}` after the 200 was sent has no status of its own: a busy server
 * reads as overloaded (what its 503 says before a stream starts), anything else as the server
 * failing part-way.
 */
function streamError(chat: OllamaChatResponse, headers: Headers): ProviderHttpError {
	const text = typeof chat.error === 'string' ? chat.error : JSON.stringify(chat.error);
	const status = /busy|overloaded/i.test(text) ? 503 : 500;
	return new ProviderHttpError(status, { error: text }, headers);
}

function parseLine(line: string): OllamaChatResponse {
	try {
		const parsed: unknown = JSON.parse(line);
		if (parsed && typeof parsed === 'object') return parsed as OllamaChatResponse;
	} catch {
		// falls through to the error below
	}
	throw new MalformedResponseError('ollama', 'a stream line that is not a JSON object');
}

/** The shared events of one streamed Ollama answer, ending with `done`. */
export async function* readOllamaStream(
	response: Response,
	context: { model: string; signal: AbortSignal },
): AsyncGenerator<StreamEvent> {
	const answer = new StreamedAnswer();
	let last: OllamaChatResponse | undefined;
	for await (const line of lines(response.body ?? new ReadableStream())) {
		if (context.signal.aborted) break;
		if (line.trim() === '') continue;
		const chat = parseLine(line);
		if (chat.error !== undefined) throw streamError(chat, response.headers);
		yield* answer.text(chat.message?.content);
		for (const call of toolCallsOf(chat)) yield* answer.toolCall(call);
		if (chat.done) {
			last = chat;
			break;
		}
	}
	assertStreamEnded('ollama', context.signal, last !== undefined);
	yield answer.done({
		finish: finishOf(last?.done_reason),
		usage: { inputTokens: last?.prompt_eval_count ?? 0, outputTokens: last?.eval_count ?? 0 },
		model: last?.model ?? context.model,
	});
}
