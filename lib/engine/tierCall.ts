/** One try on a tier (or on one key of its pool) as the gates let it out. */
import { attempt } from './attempt';
import type { AttemptContext, AttemptOutcome } from './attempt';
import type { GatedCall } from './breaker/callGate';
import type { Deadline } from './deadline';
import type { PreparedTier } from './preparedTier';
import type { CompletionRequest } from '../providers/types';
import { streamedAttempt } from './streamedAttempt';
import type { StreamedText } from './streamedText';

/** A timed call, or, with a reader for text as it arrives, a streamed one that continues any text kept so far. */
export function tierCall(
	tier: PreparedTier,
	request: CompletionRequest,
	deadline: Deadline,
	streamed: StreamedText | undefined,
	context: AttemptContext,
): GatedCall<AttemptOutcome> {
	if (!streamed)
		return (remainingMs) => attempt(tier, request, remainingMs, deadline.signal, context);
	return (remainingMs, accepted) =>
		streamedAttempt(
			tier,
			streamed.requestFor(request, tier),
			remainingMs,
			deadline.signal,
			context,
			streamed.sink(accepted),
		);
}
