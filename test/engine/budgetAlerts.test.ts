/**
 * When a spend budget alerts (lib/alerts/budgetAlerts.ts) and the spend figure's day
 * (lib/alerts/spend.ts): 80 % and 100 % of the limit, exact in micro-dollars; a call turned
 * away counts as 100 %; a new limit marks its thresholds afresh; today begins at midnight in
 * the trigger's time zone, on days the clocks change too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { budgetAlertOf, budgetCrossings } from '../../lib/alerts/budgetAlerts';
import { spendOf, startOfToday } from '../../lib/alerts/spend';
import type { BudgetUse } from '../../lib/state/types';

const use = (spentMicros: number, extra: Partial<BudgetUse> = {}): BudgetUse => ({
	name: 'support-team',
	periodName: 'day 2026-12-03',
	limitMicros: 100_000,
	turnedAway: false,
	budget: 'name:support-team',
	period: '2026-12-03',
	spentMicros,
	expiresAt: 0,
	...extra,
});

const thresholds = (uses: BudgetUse[]) => budgetCrossings(uses).map((c) => c.threshold);

describe('budget alerts', () => {
	it('80 % and 100 % of the limit, to the micro-dollar', () => {
		assert.deepEqual(thresholds([use(79_999)]), []);
		assert.deepEqual(thresholds([use(80_000)]), ['80%']);
		assert.deepEqual(thresholds([use(99_999)]), ['80%']);
		assert.deepEqual(thresholds([use(100_000)]), ['80%', '100%']);
		assert.deepEqual(thresholds([use(0, { limitMicros: 0 })]), [], 'no limit: nothing');
	});

	it('a call turned away counts as 100 %, marked under its limit', () => {
		const crossings = budgetCrossings([use(50_000, { turnedAway: true })]);
		assert.deepEqual(
			crossings.map((c) => c.mark),
			['100%@100000'],
		);
		assert.deepEqual(budgetAlertOf(crossings[0]), {
			event: 'threshold_reached',
			kind: 'budget',
			budget: 'support-team',
			period: 'day 2026-12-03',
			limitUsd: 0.1,
			spentUsd: 0.05,
			share: 1,
			threshold: '100%',
			callsTurnedAway: true,
		});
	});

	it("names a workflow's own budget's workflow", () => {
		const [crossing] = budgetCrossings([
			use(90_000, { name: 'workflow wf-7', workflowId: 'wf-7', budget: 'workflow:wf-7' }),
		]);
		assert.equal(budgetAlertOf(crossing).workflowId, 'wf-7');
		assert.equal(budgetAlertOf(crossing).share, 0.8);
		assert.equal(crossing.mark, '80%@100000');
	});
});

describe('spend figure', () => {
	it('today begins at midnight in the time zone', () => {
		const now = Date.parse('2026-12-03T10:00:00Z');
		assert.equal(startOfToday('UTC', now), Date.parse('2026-12-03T00:00:00Z'));
		assert.equal(startOfToday('Europe/Berlin', now), Date.parse('2026-12-02T23:00:00Z'));
		assert.equal(startOfToday('Asia/Tokyo', now), Date.parse('2026-12-02T15:00:00Z'));
		assert.equal(startOfToday('America/New_York', now), Date.parse('2026-12-03T05:00:00Z'));
		assert.equal(startOfToday('Nowhere/Land', now), Date.parse('2026-12-03T00:00:00Z'));
	});

	it('on a day the clocks change, from the midnight before it', () => {
		// Berlin moved from +1 to +2 at 02:00 on 2026-03-29: midnight was 23:00 UTC the day before.
		const afterChange = Date.parse('2026-03-29T12:00:00Z');
		assert.equal(startOfToday('Europe/Berlin', afterChange), Date.parse('2026-03-28T23:00:00Z'));
		// And back to +1 on 2026-10-25: that midnight was 22:00 UTC.
		const backAgain = Date.parse('2026-10-25T20:00:00Z');
		assert.equal(startOfToday('Europe/Berlin', backAgain), Date.parse('2026-10-24T22:00:00Z'));
	});

	it('in dollars, to the micro-dollar, per model', () => {
		assert.deepEqual(spendOf(undefined), { todayUsd: 0, byModel: {} });
		assert.deepEqual(
			spendOf({
				tasks: 3,
				answeredByTier: [3, 0, 0, 0],
				escalated: 0,
				costUsd: 0.1200004,
				costByModel: { 'anthropic/claude-haiku-4-5': 0.12, 'openai/gpt-4o-mini': 0.0000004 },
			}),
			{ todayUsd: 0.12, byModel: { 'anthropic/claude-haiku-4-5': 0.12, 'openai/gpt-4o-mini': 0 } },
		);
	});
});
