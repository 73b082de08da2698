/**
 * Anthropic's Messages API streamed (`"stream": true`), for the provider emulator:
 * message_start, a content block per text and tool call (text_delta, input_json_delta), then
 * message_delta with the stop reason and usage, and message_stop.
 */
import { SSE_HEADERS, sseEvent, streamChunks } from '../wireFormat';
import type { StreamPieces, WireAnswer, WireStream } from '../wireFormat';

const STOP = { refused: 'refusal', truncated: 'max_tokens' } as const;

/** Why the answer stopped, in Anthropic's words. */
export function stopReason(a: WireAnswer): string {
	if (a.finish === 'refused' || a.finish === 'truncated') return STOP[a.finish];
	return a.toolCalls.length > 0 && a.finish === 'stop' ? 'tool_use' : 'end_turn';
}

/** Whether the answer has a text block: none when empty, nor an empty one beside tool calls. */
export function hasTextBlock(a: WireAnswer): boolean {
	if (a.finish === 'empty_output') return false;
	return !(a.toolCalls.length > 0 && a.finish === 'stop' && a.text === '');
}

/** Anthropic names each event after its type. */
const event = (data: { type: string; [field: string]: unknown }) => sseEvent(data, data.type);

/** One content block's events: its start with the first delta, its stop with the last. */
function blockFrames(index: number, block: object, deltas: object[]): string[] {
	const start = event({ type: 'content_block_start', index, content_block: block });
	const frames = deltas.map((delta) => event({ type: 'content_block_delta', index, delta }));
	const stop = event({ type: 'content_block_stop', index });
	if (frames.length === 0) return [start + stop];
	frames[0] = start + frames[0];
	frames[frames.length - 1] += stop;
	return frames;
}

export function anthropicStream(a: WireAnswer, pieces: StreamPieces): WireStream {
	const frames: string[] = [];
	let index = 0;
	if (hasTextBlock(a)) {
		const deltas = pieces.text.map((text) => ({ type: 'text_delta', text }));
		frames.push(...blockFrames(index++, { type: 'text', text: '' }, deltas));
	}
	a.toolCalls.forEach((call, i) => {
		const block = { type: 'tool_use', id: call.id, name: call.name, input: {} };
		const deltas = (pieces.toolArguments[i] ?? []).map((partial_json) => ({
			type: 'input_json_delta',
			partial_json,
		}));
		frames.push(...blockFrames(index++, block, deltas));
	});
	const message = {
		id: `msg_${a.requestId.slice(4)}`,
		type: 'message',
		role: 'assistant',
		model: a.model,
		content: [],
		stop_reason: null,
		stop_sequence: null,
		usage: { input_tokens: a.usage.input, output_tokens: 1 },
	};
	const open = event({ type: 'message_start', message }) + event({ type: 'ping' });
	const close =
		event({
			type: 'message_delta',
			delta: { stop_reason: stopReason(a), stop_sequence: null },
			usage: { input_tokens: a.usage.input, output_tokens: a.usage.output },
		}) + event({ type: 'message_stop' });
	return {
		headers: { ...SSE_HEADERS, 'request-id': a.requestId },
		chunks: streamChunks(open, frames, close),
	};
}
