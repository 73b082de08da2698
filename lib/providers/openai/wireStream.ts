/**
 * OpenAI's chat completions streamed (`"stream": true`), for the provider emulator:
 * chat.completion.chunk objects with content (or refusal) deltas, tool calls by index with
 * their arguments in pieces, the finish reason, usage when `stream_options.include_usage`
 * asked for it, then `[DONE]`.
 */
import { SSE_HEADERS, sseEvent, streamChunks } from '../wireFormat';
import type { StreamPieces, WireAnswer, WireCall, WireStream } from '../wireFormat';

/** Why the answer stopped, in OpenAI's words. */
export function finishReason(a: WireAnswer): string {
	if (a.finish === 'truncated') return 'length';
	return a.toolCalls.length > 0 && a.finish === 'stop' ? 'tool_calls' : 'stop';
}

/** One tool call's chunks: its id and name first, then its arguments piece by piece. */
function toolDeltas(a: WireAnswer, pieces: StreamPieces): object[][] {
	return a.toolCalls.map((call, index) => {
		const head = {
			tool_calls: [
				{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
			],
		};
		const args = (pieces.toolArguments[index] ?? []).map((piece) => ({
			tool_calls: [{ index, function: { arguments: piece } }],
		}));
		return [head, ...args];
	});
}

export function openaiStream(a: WireAnswer, pieces: StreamPieces, call: WireCall): WireStream {
	const base = {
		id: `chatcmpl-${a.requestId.slice(4)}`,
		object: 'chat.completion.chunk',
		created: Math.floor(Date.now() / 1000),
		model: a.model,
		system_fingerprint: null,
	};
	// With include_usage every chunk carries `usage: null`, and one more chunk carries it last.
	const usage = call.streamUsage ? { usage: null } : {};
	const chunk = (delta: object, finish: string | null = null) =>
		sseEvent({
			...base,
			choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
			...usage,
		});
	const key = a.finish === 'refused' ? 'refusal' : 'content';
	const frames = pieces.text.map((text) => chunk({ [key]: text }));
	for (const deltas of toolDeltas(a, pieces))
		frames.push(deltas.map((delta) => chunk(delta)).join(''));
	const calling = a.toolCalls.length > 0 && a.finish === 'stop' && pieces.text.length === 0;
	const open = chunk({ role: 'assistant', content: calling ? null : '', refusal: null });
	const totals = {
		prompt_tokens: a.usage.input,
		completion_tokens: a.usage.output,
		total_tokens: a.usage.input + a.usage.output,
	};
	const close =
		chunk({}, finishReason(a)) +
		(call.streamUsage ? sseEvent({ ...base, choices: [], usage: totals }) : '') +
		'data: [DONE]\n\n';
	return {
		headers: { ...SSE_HEADERS, 'x-request-id': a.requestId },
		chunks: streamChunks(open, frames, close),
	};
}
