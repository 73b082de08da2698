/**
 * One streamed call to one tier: text goes to the run's reader as it arrives, and the call is
 * cut short when its first event or the next one is too long in coming. Like attempt(), it
 * never throws; its outcome also says what text the reader got, for a continuation.
 */
import type { CompletionRequest, CompletionResponse, StreamEvent } from '../providers/types';
import { attempt, failed } from './attempt';
import type { AttemptContext, AttemptOutcome } from './attempt';
import { classifyOutput } from './classifyError';
import type { AbortCause } from './classifyError';
import { SDK_TIMEOUT_SLACK_MS } from './preparedTier';
import type { PreparedTier } from './preparedTier';
import { CUT, StreamTimers } from './streamTimers';
import type { ClassifiedFailure } from './types';

/** Where a streamed call's text goes. */
export interface TextSink {
	/** Text as it arrives; with `forward` off (JSON output), the checked answer once. */
	onText(delta: string): void;
	/** Off when only the whole answer may be sent: it is checked first. */
	forward: boolean;
	/** The call's first event arrived: the provider accepted it. */
	accepted(): void;
}

/** What the reader was sent, and when the first event came, while the stream ran. */
interface StreamProgress {
	sent: string;
	firstTokenMs?: number;
	response?: CompletionResponse;
}

/** One streamed call; an adapter that cannot stream answers whole, and its text goes at once. */
export async function streamedAttempt(
	tier: PreparedTier,
	request: CompletionRequest,
	remainingMs: number,
	outer: AbortSignal | undefined,
	context: AttemptContext,
	sink: TextSink,
): Promise<AttemptOutcome> {
	if (!tier.adapter.stream) {
		const outcome = await attempt(tier, request, remainingMs, outer, context);
		const text = outcome.failure ? '' : (outcome.response?.text ?? '');
		if (text) sink.onText(text);
		return { ...outcome, sentText: text };
	}
	const { clock } = context;
	// Whole milliseconds: the OpenAI SDK rejects a fractional timeout.
	const limitMs = Math.max(1, Math.floor(Math.min(tier.timeoutMs, remainingMs)));
	const cause: AbortCause = limitMs < tier.timeoutMs ? 'deadline' : 'attempt_timeout';
	const timers = new StreamTimers(
		clock,
		{ ms: limitMs, cause },
		{ firstTokenMs: tier.firstTokenTimeoutMs, stallMs: tier.stallTimeoutMs },
		outer,
	);
	const started = clock.now();
	const progress: StreamProgress = { sent: '' };
	try {
		const events = tier.adapter.stream(request, {
			signal: timers.controller.signal,
			timeoutMs: limitMs + SDK_TIMEOUT_SLACK_MS,
		});
		await consume(events, timers, sink, progress, () => clock.now() - started);
		if (timers.cause) return cutShort(tier, timers, progress, clock.now() - started, context);
		return finished(progress, clock.now() - started, context, sink);
	} catch (error) {
		const latencyMs = clock.now() - started;
		if (timers.cause) return cutShort(tier, timers, progress, latencyMs, context);
		const outcome = failed(tier, error, latencyMs, undefined, context.secrets);
		return streamedFailure(outcome, progress);
	} finally {
		timers.dispose();
	}
}

/** Reads events until the answer is done, the stream ends or a limit cuts it short. */
async function consume(
	events: AsyncIterable<StreamEvent>,
	timers: StreamTimers,
	sink: TextSink,
	progress: StreamProgress,
	elapsed: () => number,
): Promise<void> {
	const iterator = events[Symbol.asyncIterator]();
	try {
		for (;;) {
			const step = await timers.read(iterator.next());
			if (step === CUT || step.done) return;
			if (progress.firstTokenMs === undefined) {
				progress.firstTokenMs = elapsed();
				sink.accepted();
			}
			timers.sawEvent();
			const event = step.value;
			if (event.type === 'done') {
				progress.response = event.response;
				return;
			}
			// Tool calls are passed on whole, from the finished answer: never half.
			if (event.type === 'text' && event.text !== '' && sink.forward) {
				progress.sent += event.text;
				sink.onText(event.text);
			}
		}
	} finally {
		// The SDK closes its connection; a stream that will not end is left to the abort.
		void Promise.resolve()
			.then(() => iterator.return?.())
			.catch(() => undefined);
	}
}

/** A stream that ran to its end: the answer checked, and any text the reader still lacks sent. */
function finished(
	progress: StreamProgress,
	latencyMs: number,
	context: AttemptContext,
	sink: TextSink,
): AttemptOutcome {
	const response = progress.response;
	if (!response) {
		return streamedFailure(
			{
				latencyMs,
				failure: {
					errorClass: 'connection',
					message: 'the stream ended before the answer was complete',
				},
			},
			progress,
		);
	}
	const checked = classifyOutput(response, context.outputCheck);
	const base = { latencyMs, response, usage: response.usage };
	if ('failure' in checked) return streamedFailure({ ...base, failure: checked.failure }, progress);
	const unsent = sink.forward
		? response.text.startsWith(progress.sent)
			? response.text.slice(progress.sent.length)
			: ''
		: response.text;
	if (unsent) {
		progress.sent += unsent;
		sink.onText(unsent);
	}
	return { ...base, json: checked.json, ...streamedFields(progress) };
}

/** A call the engine's own limits (or a stopped execution) cut short. */
function cutShort(
	tier: PreparedTier,
	timers: StreamTimers,
	progress: StreamProgress,
	latencyMs: number,
	context: AttemptContext,
): AttemptOutcome {
	const cause = timers.cause;
	if (cause === 'first_token' || cause === 'stall') {
		const failure: ClassifiedFailure = {
			errorClass: 'timeout',
			message:
				cause === 'first_token'
					? `no first token in ${seconds(tier.firstTokenTimeoutMs)} s`
					: `the stream stalled: nothing for ${seconds(tier.stallTimeoutMs)} s`,
			// A model that accepted the call and says nothing is stuck, not busy: try another.
			...(cause === 'first_token'
				? { leaveTier: 'no first token within the First Token Timeout' }
				: {}),
		};
		return streamedFailure({ latencyMs, failure }, progress);
	}
	return streamedFailure(failed(tier, undefined, latencyMs, cause, context.secrets), progress);
}

/** A failed streamed call's outcome, saying how much text the reader got before it failed. */
function streamedFailure(outcome: AttemptOutcome, progress: StreamProgress): AttemptOutcome {
	const failure = outcome.failure;
	if (failure && progress.sent !== '') {
		const message = `after ${progress.sent.length} characters streamed: ${failure.message}`;
		outcome = { ...outcome, failure: { ...failure, message } };
	}
	return { ...outcome, ...streamedFields(progress) };
}

function streamedFields(progress: StreamProgress): Partial<AttemptOutcome> {
	return {
		streamed: true,
		sentText: progress.sent,
		...(progress.firstTokenMs !== undefined
			? { firstTokenMs: Math.round(progress.firstTokenMs * 100) / 100 }
			: {}),
	};
}

function seconds(ms: number): number {
	return Math.round(ms / 100) / 10;
}
