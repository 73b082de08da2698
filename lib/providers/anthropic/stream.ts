/**
 * Anthropic's streamed message read into the shared events: text deltas as they come, each
 * tool_use block passed on at its content_block_stop (its input assembled from
 * input_json_delta pieces), and the stop reason and usage from message_delta.
 */
import type Anthropic from '@anthropic-ai/sdk';

import { StreamedAnswer, ToolCallAssembler, assertStreamEnded } from '../streamAssembly';
import type { RateLimitReading } from '../rateLimits';
import type { FinishReason, StreamEvent, TokenUsage } from '../types';

type Event = Anthropic.RawMessageStreamEvent;

interface MessageState {
	model: string;
	stopReason: string | null;
	usage: TokenUsage;
	stopped: boolean;
}

/** The events one stream event gives, updating the message's state as it goes. */
function readEvent(
	event: Event,
	state: MessageState,
	answer: StreamedAnswer,
	calls: ToolCallAssembler,
): StreamEvent[] {
	switch (event.type) {
		case 'message_start':
			state.model = event.message.model;
			state.usage = {
				inputTokens: event.message.usage.input_tokens,
				outputTokens: event.message.usage.output_tokens,
			};
			return [];
		case 'content_block_start': {
			const block = event.content_block;
			if (block.type === 'text') return answer.text(block.text);
			if (block.type === 'tool_use')
				calls.add(event.index, { id: block.id, name: block.name, input: block.input });
			return [];
		}
		case 'content_block_delta':
			if (event.delta.type === 'text_delta') return answer.text(event.delta.text);
			if (event.delta.type === 'input_json_delta')
				calls.add(event.index, { arguments: event.delta.partial_json });
			return [];
		case 'content_block_stop':
			return answer.toolCall(calls.finish(event.index));
		case 'message_delta':
			state.stopReason = event.delta.stop_reason ?? state.stopReason;
			// Usage here is cumulative; input tokens may be left out (null) when unchanged.
			state.usage = {
				inputTokens: event.usage.input_tokens ?? state.usage.inputTokens,
				outputTokens: event.usage.output_tokens,
			};
			return [];
		case 'message_stop':
			state.stopped = true;
			return [];
	}
}

/** The shared events of one Anthropic stream, ending with `done`. */
export async function* readAnthropicStream(
	events: AsyncIterable<Event>,
	context: {
		requestId: string | undefined;
		/** The rate-limit headers of the stream's 200. */
		rateLimit?: RateLimitReading;
		signal: AbortSignal;
		finishOf: (stopReason: string | null) => FinishReason;
	},
): AsyncGenerator<StreamEvent> {
	const state: MessageState = {
		model: '',
		stopReason: null,
		usage: { inputTokens: 0, outputTokens: 0 },
		stopped: false,
	};
	const answer = new StreamedAnswer();
	const calls = new ToolCallAssembler('anthropic');
	for await (const event of events) {
		// Nothing after an abort, even what the SDK had already read.
		if (context.signal.aborted) break;
		yield* readEvent(event, state, answer, calls);
	}
	assertStreamEnded('anthropic', context.signal, state.stopped);
	for (const call of calls.finishAll()) yield* answer.toolCall(call);
	const finish = context.finishOf(state.stopReason);
	yield answer.done({
		finish,
		refusalText: finish === 'refusal' ? answer.joinedText : undefined,
		usage: state.usage,
		requestId: context.requestId,
		...(context.rateLimit ? { rateLimit: context.rateLimit } : {}),
		model: state.model,
	});
}
