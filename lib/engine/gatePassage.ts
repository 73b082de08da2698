/**
 * Between a tier's tries and the gates (budget, pace, breaker): what the gates are told of
 * a tier, and how a try they let no call out for is recorded.
 */
import type { CompletionRequest } from '../providers/types';
import type { CallGate, Passage, PassOptions } from './breaker/callGate';
import type { Deadline } from './deadline';
import { promptTokens } from './limits/ratePacer';
import type { PreparedTier } from './preparedTier';
import { CIRCUIT_OPEN, OVER_BUDGET, RATE_LIMIT_HELD } from './reasonText';
import type { TaskRecord } from './taskRecord';
import type { TierSummary } from './types';

/** One try of a tier, as a skip's record names it. */
export interface TryAt {
	tier: PreparedTier;
	attempt: number;
	deadline: Deadline;
	record: TaskRecord;
}

/** What the gates need of a tier's tries, and where they report waits, budget and trouble. */
export function passOptionsOf(
	tier: PreparedTier,
	request: CompletionRequest,
	record: TaskRecord,
	summary: TierSummary,
): PassOptions {
	return {
		holdMs: tier.timeoutMs,
		onDegraded: (why) => record.degrade(why),
		tokens: promptTokens(request),
		onPaced: (heldMs) => {
			if (heldMs >= 1) summary.pacedMs = Math.round((summary.pacedMs ?? 0) + heldMs);
		},
		price: tier.price,
		maxOutputTokens: request.maxOutputTokens,
		onBudget: (state) => record.budgetNow(state),
	};
}

/**
 * A try the gate let no call out for: the tier is passed over, its record saying why, or
 * the task's time is up.
 */
export async function passedOver(
	gate: CallGate,
	passage: Exclude<Passage<unknown>, { kind: 'called' }>,
	at: TryAt,
): Promise<{ outOfTime?: boolean }> {
	switch (passage.kind) {
		case 'deadline':
			return { outOfTime: true };
		case 'held':
			// Waiting for room would outlast the task: the next tier may answer sooner.
			at.record.skipped(
				at.tier,
				at.attempt,
				RATE_LIMIT_HELD,
				`room in ${Math.ceil(passage.waitMs / 1000)} s`,
			);
			return {};
		case 'over_budget':
			// A cheaper tier may still fit in what is left.
			at.record.skipped(at.tier, at.attempt, OVER_BUDGET, passage.detail);
			return {};
		case 'open':
			// Known to be down: no call, no wait, straight to the next tier.
			await skipOpen(gate, at);
			return {};
	}
}

/** Records a tier passed over because its circuit is open, saying since when and until when. */
export async function skipOpen(gate: CallGate, at: TryAt): Promise<void> {
	const detail = await gate.describeOpen(at.tier.circuit, at.deadline);
	at.record.skipped(at.tier, at.attempt, CIRCUIT_OPEN, detail);
}
