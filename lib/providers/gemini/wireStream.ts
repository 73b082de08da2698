/**
 * Gemini's streamGenerateContent with `alt=sse`, for the provider emulator: each event a
 * GenerateContentResponse holding the next piece of text; function calls come whole, and
 * the last event carries the finish reason and the usage.
 */
import { SSE_HEADERS, sseEvent } from '../wireFormat';
import type { StreamPieces, WireAnswer, WireStream } from '../wireFormat';

export function usageMetadata(a: WireAnswer) {
	return {
		promptTokenCount: a.usage.input,
		candidatesTokenCount: a.usage.output,
		totalTokenCount: a.usage.input + a.usage.output,
	};
}

/** A blocked prompt: no candidates at all, only the feedback. */
export function blockedPrompt(a: WireAnswer) {
	return {
		promptFeedback: { blockReason: 'SAFETY' },
		usageMetadata: { promptTokenCount: a.usage.input, totalTokenCount: a.usage.input },
		modelVersion: a.model,
		responseId: a.requestId,
	};
}

export function geminiStream(a: WireAnswer, pieces: StreamPieces): WireStream {
	const headers = { ...SSE_HEADERS };
	if (a.finish === 'refused') return { headers, chunks: [sseEvent(blockedPrompt(a))] };
	const partsList: object[][] = pieces.text.map((text) => [{ text }]);
	// Gemini sends function calls whole, without ids: they are matched by name.
	if (a.toolCalls.length > 0)
		partsList.push(a.toolCalls.map((c) => ({ functionCall: { name: c.name, args: c.arguments } })));
	if (partsList.length === 0) partsList.push([]);
	const last = partsList.length - 1;
	const chunks = partsList.map((parts, i) =>
		sseEvent({
			candidates: [
				{
					content: { role: 'model', parts },
					...(i === last ? { finishReason: a.finish === 'truncated' ? 'MAX_TOKENS' : 'STOP' } : {}),
					index: 0,
				},
			],
			...(i === last ? { usageMetadata: usageMetadata(a) } : {}),
			modelVersion: a.model,
			responseId: a.requestId,
		}),
	);
	return { headers, chunks };
}
