/**
 * When a spend budget alerts: once when what was spent in a period reaches 80 % of its limit,
 * once when it reaches 100 % (or a call was turned away because its worst cost no longer
 * fitted). Which of these were announced is kept in the state store by the caller, keyed by
 * `mark`: a limit that changes starts its thresholds afresh.
 */
import type { BudgetUse } from '../state/types';

export interface BudgetThreshold {
	share: 0.8 | 1;
	threshold: '80%' | '100%';
}

const THRESHOLDS: BudgetThreshold[] = [
	{ share: 0.8, threshold: '80%' },
	{ share: 1, threshold: '100%' },
];

/** A threshold a budget's period has reached. */
export interface BudgetCrossing extends BudgetThreshold {
	use: BudgetUse;
	/** What the store keeps once it is announced: the threshold under this limit. */
	mark: string;
}

/** What an alert item says about it. */
export interface BudgetAlertEvent extends BudgetThreshold {
	event: 'threshold_reached';
	kind: 'budget';
	/** The Budget Name, or `workflow <id>` for a workflow's own budget. */
	budget: string;
	/** `day 2026-01-05`, `month 2026-01`, `execution 1234`. */
	period: string;
	limitUsd: number;
	spentUsd: number;
	/** At 100 %: a call was turned away because its worst cost did not fit in what was left. */
	callsTurnedAway?: boolean;
	/** A workflow's own budget: its workflow. */
	workflowId?: string;
}

/** Whether `use` has reached `share` of its limit; exact, in whole micro-dollars. */
function reached(use: BudgetUse, share: BudgetThreshold['share']): boolean {
	if (use.limitMicros <= 0) return false;
	if (share === 1) return use.spentMicros >= use.limitMicros || use.turnedAway;
	return use.spentMicros * 5 >= use.limitMicros * 4;
}

/** Every threshold each budget's period has reached, 80 % before 100 %. */
export function budgetCrossings(uses: BudgetUse[]): BudgetCrossing[] {
	return uses.flatMap((use) =>
		THRESHOLDS.filter((t) => reached(use, t.share)).map((t) => ({
			...t,
			use,
			mark: `${t.threshold}@${use.limitMicros}`,
		})),
	);
}

export function budgetAlertOf({ use, share, threshold }: BudgetCrossing): BudgetAlertEvent {
	return {
		event: 'threshold_reached',
		kind: 'budget',
		budget: use.name,
		period: use.periodName,
		limitUsd: use.limitMicros / 1e6,
		spentUsd: use.spentMicros / 1e6,
		share,
		threshold,
		...(share === 1 && use.turnedAway ? { callsTurnedAway: true } : {}),
		...(use.workflowId ? { workflowId: use.workflowId } : {}),
	};
}
