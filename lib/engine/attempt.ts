/** One call to one tier, with its own time limit: what it answered, or how it failed. */
import type { Clock } from '../clock/clock';
import type { CompletionRequest, CompletionResponse } from '../providers/types';
import { classifyError, classifyOutput } from './classifyError';
import type { AbortCause, OutputCheck } from './classifyError';
import { SDK_TIMEOUT_SLACK_MS } from './preparedTier';
import type { PreparedTier } from './preparedTier';
import type { ClassifiedFailure, TokenUsage } from './types';

export interface AttemptOutcome {
	latencyMs: number;
	response?: CompletionResponse;
	json?: unknown;
	usage?: TokenUsage;
	failure?: ClassifiedFailure;
	/** The engine cut this attempt short because the task ran out of time. */
	deadlineHit?: boolean;
	/** The execution was stopped during the call. */
	cancelled?: boolean;
	/** The call was streamed (streamedAttempt.ts). */
	streamed?: boolean;
	/** A streamed call: ms from the call to its first event, if one came. */
	firstTokenMs?: number;
	/** Text passed to the run's reader during this call; a broken stream's too. */
	sentText?: string;
}

/** What every attempt of a chain shares. */
export interface AttemptContext {
	clock: Clock;
	outputCheck: OutputCheck;
	/** Keys to keep out of failure messages. */
	secrets: string[];
}

/** One call with its own timer; never throws. */
export async function attempt(
	tier: PreparedTier,
	request: CompletionRequest,
	remainingMs: number,
	outer: AbortSignal | undefined,
	context: AttemptContext,
): Promise<AttemptOutcome> {
	const { clock } = context;
	// Whole milliseconds: the OpenAI SDK rejects a fractional timeout.
	const limit = Math.max(1, Math.floor(Math.min(tier.timeoutMs, remainingMs)));
	const cause: AbortCause = limit < tier.timeoutMs ? 'deadline' : 'attempt_timeout';
	const controller = new AbortController();
	let abortCause: AbortCause | undefined;
	const cancelLimit = clock.limit(limit, () => {
		abortCause = cause;
		controller.abort();
	});
	const onOuterAbort = () => {
		abortCause = 'cancelled';
		controller.abort();
	};
	outer?.addEventListener('abort', onOuterAbort, { once: true });
	const started = clock.now();
	try {
		const response = await tier.adapter.complete(request, {
			signal: controller.signal,
			timeoutMs: limit + SDK_TIMEOUT_SLACK_MS,
		});
		const latencyMs = clock.now() - started;
		const checked = classifyOutput(response, context.outputCheck);
		if ('failure' in checked) {
			return { latencyMs, response, usage: response.usage, failure: checked.failure };
		}
		return { latencyMs, response, usage: response.usage, json: checked.json };
	} catch (error) {
		const cutShort = controller.signal.aborted ? abortCause : undefined;
		return failed(tier, error, clock.now() - started, cutShort, context.secrets);
	} finally {
		cancelLimit();
		outer?.removeEventListener('abort', onOuterAbort);
	}
}

/** The outcome of a call that threw, or that the engine's own timer cut short. */
export function failed(
	tier: PreparedTier,
	error: unknown,
	latencyMs: number,
	cutShort: AbortCause | undefined,
	secrets: string[],
): AttemptOutcome {
	return {
		latencyMs,
		// A stopped execution has no time left either: nothing more is tried.
		deadlineHit: cutShort === 'deadline' || cutShort === 'cancelled',
		...(cutShort === 'cancelled' ? { cancelled: true } : {}),
		failure: classifyError(tier.config.provider, error, { abortCause: cutShort, secrets }),
	};
}
