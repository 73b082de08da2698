/**
 * OpenAI's streamed chat completion (and any compatible server's) read into the shared
 * events: content deltas as they come, tool calls assembled per index and passed on when the
 * choice finishes, and usage from the last chunk (stream_options.include_usage).
 */
import type OpenAI from 'openai';

import { StreamedAnswer, ToolCallAssembler, assertStreamEnded } from '../streamAssembly';
import type { RateLimitReading } from '../rateLimits';
import type { FinishReason, StreamEvent, TokenUsage } from '../types';

type Chunk = OpenAI.Chat.ChatCompletionChunk;

interface CompletionState {
	model: string;
	finishReason: string | null;
	refusal: string;
	usage: TokenUsage;
}

function readChunk(
	chunk: Chunk,
	state: CompletionState,
	answer: StreamedAnswer,
	calls: ToolCallAssembler,
): StreamEvent[] {
	if (chunk.model) state.model = chunk.model;
	if (chunk.usage)
		state.usage = {
			inputTokens: chunk.usage.prompt_tokens ?? 0,
			outputTokens: chunk.usage.completion_tokens ?? 0,
		};
	const choice = chunk.choices[0];
	if (!choice) return [];
	const events = answer.text(choice.delta?.content);
	if (choice.delta?.refusal) state.refusal += choice.delta.refusal;
	for (const [position, call] of (choice.delta?.tool_calls ?? []).entries()) {
		calls.add(call.index ?? position, {
			id: call.id,
			name: call.function?.name,
			arguments: call.function?.arguments,
		});
	}
	if (choice.finish_reason) {
		state.finishReason = choice.finish_reason;
		// Calls may come one after another or interleaved: all are whole once the choice ends.
		for (const call of calls.finishAll()) events.push(...answer.toolCall(call));
	}
	return events;
}

/** The shared events of one chat completions stream, ending with `done`. */
export async function* readOpenAiStream(
	chunks: AsyncIterable<Chunk>,
	context: {
		provider: string;
		requestId: string | undefined;
		/** The rate-limit headers of the stream's 200. */
		rateLimit?: RateLimitReading;
		signal: AbortSignal;
		finishOf: (finishReason: string | null) => FinishReason;
	},
): AsyncGenerator<StreamEvent> {
	const state: CompletionState = {
		model: '',
		finishReason: null,
		refusal: '',
		usage: { inputTokens: 0, outputTokens: 0 },
	};
	const answer = new StreamedAnswer();
	const calls = new ToolCallAssembler(context.provider);
	for await (const chunk of chunks) {
		// Nothing after an abort, even what the SDK had already read.
		if (context.signal.aborted) break;
		yield* readChunk(chunk, state, answer, calls);
	}
	assertStreamEnded(context.provider, context.signal, state.finishReason !== null);
	const refusal = state.refusal || undefined;
	yield answer.done({
		finish: refusal ? 'refusal' : context.finishOf(state.finishReason),
		refusalText: refusal,
		usage: state.usage,
		requestId: context.requestId,
		...(context.rateLimit ? { rateLimit: context.rateLimit } : {}),
		model: state.model,
	});
}
