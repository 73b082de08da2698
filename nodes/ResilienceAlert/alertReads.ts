/**
 * What the Resilience Alert reads from the state store on each poll: the window's counters,
 * the open circuits, today's counters for the spend figure, and the budget thresholds reached
 * that this trigger has not announced yet (marked in the store as they are, so that neither
 * the next poll nor a restart of n8n announces them again).
 */
import type { IPollFunctions } from 'n8n-workflow';

import { budgetAlertOf, budgetCrossings } from '../../lib/alerts/budgetAlerts';
import type { BudgetAlertEvent } from '../../lib/alerts/budgetAlerts';
import { startOfToday } from '../../lib/alerts/spend';
import type { Counters, StateStore } from '../../lib/state/types';
import { flushCounters } from '../shared/alertCounters';

export interface AlertReads {
	counters: Map<string, Counters>;
	circuits: string[];
	/** Per workflow, since today began in the workflow's time zone. */
	today: Map<string, Counters>;
	budgets: BudgetAlertEvent[];
}

/**
 * The budget thresholds reached and not yet announced by this trigger. A test run from the
 * editor shows every threshold reached and marks none, so the active trigger still announces them.
 */
async function newBudgetAlerts(
	ctx: IPollFunctions,
	store: StateStore,
	now: number,
): Promise<BudgetAlertEvent[]> {
	const crossings = budgetCrossings(await store.listBudgets(now));
	if (crossings.length === 0) return [];
	if (ctx.getMode() === 'manual') return crossings.map(budgetAlertOf);
	const node = ctx.getNode();
	const consumer = `${ctx.getWorkflow().id ?? ''}/${node.id ?? node.name}`;
	const events: BudgetAlertEvent[] = [];
	for (const crossing of crossings) {
		const { budget, period, expiresAt } = crossing.use;
		const ttlMs = Math.max(60_000, expiresAt - now);
		if (await store.markBudgetAnnounced(consumer, budget, period, crossing.mark, ttlMs, now))
			events.push(budgetAlertOf(crossing));
	}
	return events;
}

export async function readForAlerts(
	ctx: IPollFunctions,
	store: StateStore,
	window: { from: number; to: number },
	alertOnBudget: boolean,
): Promise<AlertReads> {
	const { from, to } = window;
	// Tasks counted in this process in the last second count too.
	await flushCounters();
	const counters = await store.readCounters(from, to);
	// Only circuits still cooling down (or probing): one past its cool-down has recovered.
	const circuits = await store.openCircuits(to);
	const today = await store.readCounters(startOfToday(ctx.getTimezone(), to), to);
	const budgets = alertOnBudget ? await newBudgetAlerts(ctx, store, to) : [];
	return { counters, circuits, today, budgets };
}
