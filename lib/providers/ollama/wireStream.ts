/**
 * Ollama's `/api/chat` streamed (its default), for the provider emulator: one JSON line per
 * piece of text (`done: false`), tool calls whole in a line of their own, then a `done: true`
 * line with the stop reason and the token counts.
 */
import type { StreamPieces, WireAnswer, WireStream } from '../wireFormat';

const line = (body: object) => `${JSON.stringify(body)}\n`;

/** Ollama's tool calls carry no id; arguments are an object, not a string. */
export function ollamaToolCalls(a: WireAnswer) {
	return a.toolCalls.map((call, index) => ({
		function: { index, name: call.name, arguments: call.arguments },
	}));
}

/** The counts and durations (in ns) of the line that ends an answer. */
export function doneFields(a: WireAnswer) {
	return {
		done: true,
		done_reason: a.finish === 'truncated' ? 'length' : 'stop',
		total_duration: 1,
		prompt_eval_count: a.usage.input,
		eval_count: a.usage.output,
	};
}

export function ollamaStream(a: WireAnswer, pieces: StreamPieces): WireStream {
	const base = () => ({ model: a.model, created_at: new Date().toISOString() });
	const lines = pieces.text.map((content) =>
		line({ ...base(), message: { role: 'assistant', content }, done: false }),
	);
	if (a.toolCalls.length > 0) {
		const message = { role: 'assistant', content: '', tool_calls: ollamaToolCalls(a) };
		lines.push(line({ ...base(), message, done: false }));
	}
	lines.push(line({ ...base(), message: { role: 'assistant', content: '' }, ...doneFields(a) }));
	return { headers: { 'content-type': 'application/x-ndjson' }, chunks: lines };
}
