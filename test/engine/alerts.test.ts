/** The alert rules alone. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { evaluateAlerts } from '../../lib/alerts/evaluateAlerts';
import type { OpenIncidents } from '../../lib/alerts/evaluateAlerts';
import type { Counters } from '../../lib/state/types';

const thresholds = { fallbackRate: 0.2, escalationRate: 0.1, minTasks: 5, alertOnBreaker: true };
const counts = (t1: number, t2: number, escalated: number): Map<string, Counters> =>
	new Map([
		[
			'wf-1',
			{ tasks: t1 + t2 + escalated, answeredByTier: [t1, t2, 0, 0], escalated, costUsd: 0.01 },
		],
	]);

describe('evaluateAlerts', () => {
	it('fires once when an incident starts, not on later polls, and once when it ends', () => {
		let open: OpenIncidents = {};
		const first = evaluateAlerts(counts(6, 4, 0), [], thresholds, open);
		assert.deepEqual(
			first.events.map((e) => [e.event, e.kind, e.subject, e.rates?.answeredBelowTier1]),
			[['incident', 'fallback_rate', 'wf-1', 0.4]],
		);
		assert.deepEqual(first.events[0].answeredByTier, {
			'tier 1': 6,
			'tier 2': 4,
			'tier 3': 0,
			'tier 4+': 0,
		});
		open = first.open;
		assert.deepEqual(
			evaluateAlerts(counts(7, 5, 0), [], thresholds, open).events,
			[],
			'still going: no second alert',
		);
		const recovered = evaluateAlerts(counts(40, 5, 0), [], thresholds, open);
		assert.deepEqual(
			recovered.events.map((e) => [e.event, e.kind, e.rates?.answeredBelowTier1]),
			[['recovered', 'fallback_rate', 0.111]],
		);
		assert.deepEqual(recovered.open, {});
	});

	it('escalations and open breakers are incidents of their own; a thin window changes nothing', () => {
		const { events, open } = evaluateAlerts(
			counts(8, 0, 2),
			['anthropic/claude-haiku-4-5'],
			thresholds,
			{},
		);
		assert.deepEqual(events.map((e) => [e.kind, e.subject]).sort(), [
			['breaker_open', 'anthropic/claude-haiku-4-5'],
			['escalation_rate', 'wf-1'],
		]);
		assert.deepEqual(
			evaluateAlerts(counts(1, 0, 1), ['anthropic/claude-haiku-4-5'], thresholds, open).events,
			[],
			'two tasks say nothing either way',
		);
		assert.deepEqual(
			evaluateAlerts(counts(20, 0, 0), [], thresholds, open)
				.events.map((e) => [e.event, e.kind])
				.sort(),
			[
				['recovered', 'breaker_open'],
				['recovered', 'escalation_rate'],
			],
		);
	});
});
