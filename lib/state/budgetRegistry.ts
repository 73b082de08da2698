/**
 * The registry of spend budgets, read by the Resilience Alert: one entry per budget and
 * period, written in the same atomic write as the settlement (or the refusal) that used it,
 * saying what people call the budget, its limit, and whether a call was turned away for
 * want of it. The Redis store's Lua (redisBudgetScripts.ts) merges entries as entryAfter does.
 */

/** How a budget names itself to the registry. */
export interface BudgetLabel {
	/** The Budget Name, or `workflow <id>` for a workflow's own budget. */
	name: string;
	/** The period for people: `day 2026-01-05`, `month 2026-01`, `execution 1234`. */
	periodName: string;
	/** For a workflow's own budget: its workflow. */
	workflowId?: string;
}

/** A registry entry as stored. */
export interface BudgetEntry extends BudgetLabel {
	limitMicros: number;
	/** A call was turned away because its worst cost did not fit under this limit. */
	turnedAway: boolean;
}

/** A budget's period as the registry lists it, with what was spent in it. */
export interface BudgetUse extends BudgetEntry {
	/** The store's keys of the budget and its period. */
	budget: string;
	period: string;
	spentMicros: number;
	/** When the period's row expires (ms since the epoch): announcements need keeping no longer. */
	expiresAt: number;
}

/**
 * The entry after a call: the label and limit it brought, turned away if it was or if an
 * earlier call was under the same limit (a new limit starts afresh).
 */
export function entryAfter(
	stored: unknown,
	label: BudgetLabel,
	limitMicros: number,
	turnedAway: boolean,
): BudgetEntry {
	const was = (stored && typeof stored === 'object' ? stored : {}) as Partial<BudgetEntry>;
	return {
		name: String(label.name),
		periodName: String(label.periodName),
		...(label.workflowId ? { workflowId: String(label.workflowId) } : {}),
		limitMicros,
		turnedAway: turnedAway || (was.turnedAway === true && was.limitMicros === limitMicros),
	};
}

/** A stored entry read back; undefined when it is not one. */
export function entryOf(raw: unknown): BudgetEntry | undefined {
	if (!raw || typeof raw !== 'object') return undefined;
	const e = raw as Partial<BudgetEntry>;
	if (typeof e.name !== 'string' || typeof e.periodName !== 'string') return undefined;
	return {
		name: e.name,
		periodName: e.periodName,
		...(typeof e.workflowId === 'string' ? { workflowId: e.workflowId } : {}),
		limitMicros: Number(e.limitMicros) || 0,
		turnedAway: e.turnedAway === true,
	};
}
