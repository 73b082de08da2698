/**
 * The one place that decides what happens after a failed attempt: wait and retry the same
 * model, or move on. Pure: every input is passed in, so each rule is testable alone.
 */
import { fullJitterDelay } from './backoff';
import type { BackoffConfig, ClassifiedFailure, ErrorClass } from './types';

/**
 * Classes worth another try on the same model. Quota, auth, bad requests, unknown models,
 * oversized prompts, refusals and truncation fail the same way every time: retrying them
 * only burns money and time.
 */
export const RETRY_SAME_MODEL: Readonly<Record<ErrorClass, boolean>> = {
	rate_limited: true,
	overloaded: true,
	server_error: true,
	timeout: true,
	connection: true,
	empty_output: true,
	invalid_output: true,
	quota_exhausted: false,
	auth: false,
	bad_request: false,
	model_not_found: false,
	context_too_long: false,
	refused: false,
	truncated: false,
};

export type Step =
	| { action: 'retry'; waitMs: number; hintUsed: boolean }
	| { action: 'next_tier'; why: string };

export interface StepContext {
	/** 1-based number of the attempt that just failed, on this tier. */
	attempt: number;
	maxAttempts: number;
	/** Time left before the task deadline. */
	remainingMs: number;
	backoff: BackoffConfig;
	random?: () => number;
}

export function nextStep(failure: ClassifiedFailure, context: StepContext): Step {
	if (failure.leaveTier) return { action: 'next_tier', why: failure.leaveTier };
	if (!RETRY_SAME_MODEL[failure.errorClass]) {
		return { action: 'next_tier', why: `${failure.errorClass} is not retried on the same model` };
	}
	if (context.attempt >= context.maxAttempts) {
		return { action: 'next_tier', why: 'attempts on this tier used up' };
	}
	const hint = failure.retryHint;
	if (hint) {
		// The server knows better than our formula, unless its wait does not fit.
		if (hint.ms > context.backoff.maxHintMs) {
			return {
				action: 'next_tier',
				why: `server asks to wait ${hint.ms} ms, over the ${context.backoff.maxHintMs} ms cap`,
			};
		}
		if (hint.ms >= context.remainingMs) {
			return {
				action: 'next_tier',
				why: `server asks to wait ${hint.ms} ms, past the task deadline`,
			};
		}
		return { action: 'retry', waitMs: hint.ms, hintUsed: true };
	}
	const waitMs = fullJitterDelay(context.attempt, context.backoff, context.random);
	if (waitMs >= context.remainingMs) {
		return { action: 'next_tier', why: 'no time left for another try before the deadline' };
	}
	return { action: 'retry', waitMs, hintUsed: false };
}
