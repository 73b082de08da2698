/** Why a task needs a human, in one sentence a person can act on (e.g. in a Slack message). */
import { usd } from './pricing';
import type { AttemptRecord, BudgetState, NeedsHumanReason } from './types';

/** The message of a try passed over because its circuit was open. */
export const CIRCUIT_OPEN = 'skipped: circuit open';

/** The message of a try passed over because the rate limit left no room before the deadline. */
export const RATE_LIMIT_HELD = 'skipped: rate limit, no room before the deadline';

/** The message of a try passed over because the spend budget had no room for its worst cost. */
export const OVER_BUDGET = 'skipped: over budget';

/** The skips explained tier by tier, with the failures. */
const SKIPS = [CIRCUIT_OPEN, RATE_LIMIT_HELD, OVER_BUDGET];

/** What the tiers' failures and skips add up to. */
export function reasonOf(
	stop: NeedsHumanReason | undefined,
	skips: { degradeBlocked: boolean; contextSkipped: boolean; overBudget: boolean },
	last: AttemptRecord | undefined,
): NeedsHumanReason {
	if (stop) return stop;
	// A tier the budget held back might have answered: the budget is what a person can change.
	if (skips.overBudget) return 'over_budget';
	if (skips.degradeBlocked) return 'degrade_not_allowed';
	return skips.contextSkipped && last?.errorClass === 'context_too_long'
		? 'no_larger_context'
		: 'all_tiers_failed';
}

export function explain(
	reason: NeedsHumanReason,
	attempts: AttemptRecord[],
	cancelled: boolean,
	deadlineMs: number,
	budget?: BudgetState,
): string {
	const failed = attempts.filter((a) => a.status === 'failed');
	const circuitOpen = attempts.filter((a) => SKIPS.includes(a.message ?? ''));
	const byTier = new Map<number, AttemptRecord[]>();
	for (const attempt of failed) {
		const list = byTier.get(attempt.tier) ?? [];
		list.push(attempt);
		byTier.set(attempt.tier, list);
	}
	const parts = [...byTier.values()].map((list) => {
		const first = list[0];
		const classes = [
			...new Set(list.map((a) => `${a.errorClass}${a.httpStatus ? ` (${a.httpStatus})` : ''}`)),
		];
		const skipped = circuitOpen.find((s) => s.tier === first.tier);
		return `tier ${first.tier} ${who(first)}: ${classes.join(', ')} after ${list.length} ${list.length === 1 ? 'try' : 'tries'}${skipped ? `, then skipped, ${openWords(skipped)}` : ''}`;
	});
	for (const skipped of circuitOpen) {
		if (!byTier.has(skipped.tier))
			parts.push(`tier ${skipped.tier} ${who(skipped)}: skipped, ${openWords(skipped)}`);
	}
	const what = parts.length ? `; ${parts.join('; ')}` : '';
	switch (reason) {
		case 'deadline_exceeded':
			return cancelled
				? `The task was cancelled before a model answered${what}.`
				: `No model answered within the task deadline of ${Math.round(deadlineMs / 100) / 10} s${what}.`;
		case 'degrade_not_allowed':
			return `The first model could not answer and this high-stakes task may not fall back to a different model${what}.`;
		case 'no_larger_context':
			return `The prompt is too long for every model in the chain${what}.`;
		case 'all_tiers_failed':
			return `Every model in the chain failed${what}.`;
		case 'over_budget':
			return `${budgetWords(budget)} has no room left for another call${what}.`;
	}
}

/** "circuit open after 5 failures, next probe at 10:42:35 UTC", or just "circuit open". */
function openWords(skipped: AttemptRecord): string {
	if (skipped.message === OVER_BUDGET)
		return `over budget${skipped.detail ? ` (${skipped.detail})` : ''}`;
	if (skipped.message === RATE_LIMIT_HELD)
		return `its rate limit left no room before the deadline${skipped.detail ? ` (${skipped.detail})` : ''}`;
	return skipped.detail ? `circuit open after ${skipped.detail}` : 'circuit open';
}

/** 'The spend budget "ops" ($0.05 for day 2026-01-05, $0.05 spent)'. */
function budgetWords(budget: BudgetState | undefined): string {
	if (!budget) return 'The spend budget';
	return `The spend budget "${budget.name}" (${usd(budget.limitUsd)} for ${budget.period}, ${usd(budget.spentUsd)} spent)`;
}

/** How a reason names a tier's model: a connected one by its node, as the workflow shows it. */
function who(attempt: AttemptRecord): string {
	return attempt.node
		? `${attempt.node} (${attempt.model})`
		: `${attempt.provider}/${attempt.model}`;
}
