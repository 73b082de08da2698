/**
 * Gemini's answer read the same way whole or streamed: its finish reason, block reasons and
 * usage; a stream's chunks add text and whole functionCall parts as they come.
 */
import type { GenerateContentResponse, Part } from '@google/genai';

import { newToolCallId, parseToolArguments } from '../messageMapping';
import { StreamedAnswer, assertStreamEnded } from '../streamAssembly';
import type { CompletionResponse, FinishReason, StreamEvent, ToolCall } from '../types';

const FINISH: Record<string, FinishReason> = {
	STOP: 'stop',
	MAX_TOKENS: 'length',
	SAFETY: 'content_filter',
	RECITATION: 'content_filter',
	BLOCKLIST: 'content_filter',
	PROHIBITED_CONTENT: 'content_filter',
	SPII: 'content_filter',
	IMAGE_SAFETY: 'content_filter',
};

/** The answer's text: thought summaries are not part of it. */
export function partText(part: Part): string {
	return part.thought ? '' : (part.text ?? '');
}

/** A functionCall part as a tool call (Gemini sends each whole); undefined for any other part. */
export function partToolCall(part: Part): ToolCall | undefined {
	if (!part.functionCall?.name) return undefined;
	return {
		id: part.functionCall.id || newToolCallId(),
		name: part.functionCall.name,
		arguments: parseToolArguments('gemini', part.functionCall.args),
	};
}

/** How the answer ended: what a whole response, or a stream's last chunks, said. */
export interface AnswerEnd {
	finishReason?: string;
	/** The prompt was blocked: there is no candidate at all. */
	blockReason?: string;
	hasCandidate: boolean;
	usage?: GenerateContentResponse['usageMetadata'];
	responseId?: string;
	modelVersion?: string;
}

/** Everything of the answer but its text and tool calls. */
export function answerEnd(
	end: AnswerEnd,
	model: string,
): Omit<CompletionResponse, 'text' | 'toolCalls'> {
	let finish: FinishReason = FINISH[end.finishReason ?? ''] ?? 'other';
	if (!end.hasCandidate && end.blockReason) finish = 'refusal';
	return {
		finish,
		refusalText: end.blockReason
			? `prompt blocked: ${end.blockReason}`
			: finish === 'content_filter'
				? `answer blocked: ${end.finishReason}`
				: undefined,
		usage: {
			inputTokens: end.usage?.promptTokenCount ?? 0,
			// Thinking tokens are billed as output.
			outputTokens: (end.usage?.candidatesTokenCount ?? 0) + (end.usage?.thoughtsTokenCount ?? 0),
		},
		requestId: end.responseId,
		model: end.modelVersion ?? model,
	};
}

/** The events of one chunk; the latest finish reason, usage and ids are kept in `end`. */
function readChunk(chunk: GenerateContentResponse, end: AnswerEnd, answer: StreamedAnswer) {
	const candidate = chunk.candidates?.[0];
	if (candidate) end.hasCandidate = true;
	end.finishReason = candidate?.finishReason ?? end.finishReason;
	end.blockReason = chunk.promptFeedback?.blockReason ?? end.blockReason;
	// Each chunk's usage is the running total so far.
	end.usage = chunk.usageMetadata ?? end.usage;
	end.responseId = chunk.responseId ?? end.responseId;
	end.modelVersion = chunk.modelVersion ?? end.modelVersion;
	return (candidate?.content?.parts ?? []).flatMap((part) => [
		...answer.text(partText(part)),
		...answer.toolCall(partToolCall(part)),
	]);
}

/** The shared events of one generateContentStream, ending with `done`. */
export async function* readGeminiStream(
	chunks: AsyncIterable<GenerateContentResponse>,
	context: { model: string; signal: AbortSignal },
): AsyncGenerator<StreamEvent> {
	const end: AnswerEnd = { hasCandidate: false };
	const answer = new StreamedAnswer();
	for await (const chunk of chunks) {
		// Nothing after an abort, even what the SDK had already read.
		if (context.signal.aborted) break;
		yield* readChunk(chunk, end, answer);
	}
	// A finish reason ends an answer; a blocked prompt ends it before it starts.
	assertStreamEnded('gemini', context.signal, Boolean(end.finishReason || end.blockReason));
	yield answer.done(answerEnd(end, context.model));
}
