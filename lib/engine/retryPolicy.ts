/**
 * Retries within one tier: after a failed try, wait and try the same model again, or move on.
 * The decision is nextStep's (pure); this policy brings the chain's backoff and randomness,
 * and notes on the try's record whether the server's retry hint was followed.
 */
import { nextStep } from './nextStep';
import type { Step } from './nextStep';
import type { AttemptRecord, BackoffConfig, ClassifiedFailure } from './types';

export class RetryPolicy {
	constructor(
		readonly backoff: BackoffConfig,
		private readonly random: () => number,
	) {}

	afterFailure(
		failure: ClassifiedFailure,
		record: AttemptRecord,
		tries: { attempt: number; maxAttempts: number; remainingMs: number },
	): Step {
		const step = nextStep(failure, { ...tries, backoff: this.backoff, random: this.random });
		if (failure.retryHint) {
			record.retryHint = {
				...failure.retryHint,
				used: step.action === 'retry' && step.hintUsed,
			};
		}
		return step;
	}
}
