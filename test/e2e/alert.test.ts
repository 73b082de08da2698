/**
 * The Resilience Alert trigger inside a real n8n, on n8n's own poll schedule (once a minute):
 * the emulator takes the primary down for a window, the trigger fires once, stays quiet while
 * the incident lasts, and fires once more on recovery.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { KEYS } from '../support/emulator';
import { useN8n } from '../support/n8nFixture';
import { alertTriggerNode, llmWorkflow, oneAttemptChain, workflow } from '../support/workflows';

const ctx = useN8n();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the trigger emitted, one list per execution, oldest first. */
const alerts = (workflowId: string, atLeast = 0, timeoutMs?: number) =>
	ctx.n8n.nodeOutputs(workflowId, 'Resilience Alert', atLeast, timeoutMs);

describe('Resilience Alert in n8n', () => {
	it('fires once when the primary goes down for a window, and once on recovery', async () => {
		const path = 'alert-tasks';
		const tasksWorkflow = await ctx.n8n.createWorkflow(
			llmWorkflow(
				'alert tasks',
				path,
				{
					prompt: '={{ $json.text }}',
					chain: oneAttemptChain(['anthropic', 'openai']),
					// The fallback-rate alert alone, with every item calling the primary: with the
					// breaker on, the outage would also open a circuit and raise its own alert.
					options: { circuitBreaker: false },
				},
				ctx.credentials,
			),
		);
		const send = async (count: number, label: string) => {
			const items = Array.from({ length: count }, (_, i) => ({ text: `${label} ${i}` }));
			const response = await ctx.n8n.webhook(path, { items });
			assert.equal(response.status, 200);
		};
		// The primary answers 529 for the first 20 s of this scenario.
		ctx.emulator.loadScenario({
			apiKeys: KEYS,
			rules: [{ provider: 'anthropic', fault: 'overloaded', untilMs: 20_000 }],
		});
		ctx.emulator.resetCounts();
		await send(8, 'during the outage');
		assert.equal(ctx.emulator.count('openai'), 8, 'tier 2 answered all 8');

		const trigger = alertTriggerNode({
			stateStore: 'embedded',
			windowMinutes: 5,
			fallbackPercent: 20,
			escalationPercent: 10,
			minTasks: 5,
		});
		// n8n polls once on activation, then every minute.
		const alertWorkflow = await ctx.n8n.createWorkflow(workflow('alerts', [trigger]));
		const [incident] = await alerts(alertWorkflow, 1, 30_000);
		assert.equal(incident.length, 1);
		assert.equal(incident[0].event, 'incident');
		assert.equal(incident[0].kind, 'fallback_rate');
		assert.equal(incident[0].workflowId, tasksWorkflow);
		assert.equal(incident[0].workflowName, 'alert tasks');
		assert.equal(incident[0].workflowUrl, `${ctx.n8n.baseUrl}/workflow/${tasksWorkflow}`);
		assert.equal(incident[0].tasks, 8);
		assert.deepEqual(incident[0].rates, { answeredBelowTier1: 1, escalated: 0 });
		assert.deepEqual(incident[0].answeredByTier, {
			'tier 1': 0,
			'tier 2': 8,
			'tier 3': 0,
			'tier 4+': 0,
		});
		assert.equal((incident[0].window as { minutes: number }).minutes, 5);

		// At least one scheduled poll while the incident lasts: no second alert.
		await sleep(65_000);
		assert.equal((await alerts(alertWorkflow)).length, 1, 'one alert per incident');

		// The window is over: tier 1 answers again, and 8 of 48 tasks (16.7%) is under 20%.
		await send(40, 'after the outage');
		assert.equal(ctx.emulator.count('anthropic'), 8 + 40);
		const all = await alerts(alertWorkflow, 2, 75_000);
		assert.equal(all.length, 2);
		const [recovered] = all[1];
		assert.equal(all[1].length, 1);
		assert.equal(recovered.event, 'recovered');
		assert.equal(recovered.kind, 'fallback_rate');
		assert.equal(recovered.tasks, 48);
		assert.deepEqual(recovered.rates, { answeredBelowTier1: 0.167, escalated: 0 });
	});
});
