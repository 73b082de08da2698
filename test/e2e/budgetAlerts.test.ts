/**
 * Spend budget alerts inside a real n8n: a Resilient LLM workflow with a $0.10 daily budget
 * (each call priced at $0.01 against the emulator) and a Resilience Alert workflow on n8n's
 * poll schedule. One alert item at 80 %, none again after n8n restarts, one at 100 %, and the
 * items past the cap on Needs Human, over budget.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { KEYS, MODELS } from '../support/emulator';
import { outputsOf } from '../support/executionOutputs';
import { useN8n } from '../support/n8nFixture';
import { alertTriggerNode, llmWorkflow, workflow } from '../support/workflows';

const ctx = useN8n();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What the trigger emitted, one list per execution, oldest first. */
const alerts = (workflowId: string, atLeast = 0, timeoutMs?: number) =>
	ctx.n8n.nodeOutputs(workflowId, 'Resilience Alert', atLeast, timeoutMs);

describe('Spend budget alerts in n8n', () => {
	it('fires once at 80 % and once at 100 %, not again after a restart; items past the cap go to a person', async () => {
		const path = 'budget-tasks';
		const tasksWorkflow = await ctx.n8n.createWorkflow(
			llmWorkflow(
				'budget tasks',
				path,
				{
					prompt: '={{ $json.text }}',
					// The emulator bills 10 input tokens for each prompt below: $0.01 at $1,000 a million.
					chain: {
						tiers: [
							{
								provider: 'anthropic',
								model: MODELS.anthropic,
								attempts: 1,
								timeoutSeconds: 10,
								tierOptions: { inputPrice: 1000 },
							},
						],
					},
					options: { budgetUsd: 0.1, budgetPeriod: 'day' },
				},
				ctx.credentials,
			),
		);
		let ticket = 10;
		const send = async (count: number) => {
			const items = Array.from({ length: count }, () => ({
				text: `Summarise ticket ${ticket++} please.`,
			}));
			const response = await ctx.n8n.webhook(path, { items });
			assert.equal(response.status, 200);
			return outputsOf(await ctx.n8n.latestExecution(tasksWorkflow));
		};
		ctx.emulator.loadScenario({ apiKeys: KEYS });
		ctx.emulator.resetCounts();
		const first = await send(8);
		assert.equal(first.answered.length, 8);
		assert.equal((first.answered[0].resilience as { costUsd: number }).costUsd, 0.01);

		// n8n polls once on activation, then every minute.
		const alertWorkflow = await ctx.n8n.createWorkflow(
			workflow('budget alerts', [alertTriggerNode({ stateStore: 'embedded', minTasks: 1000 })]),
		);
		const [at80] = await alerts(alertWorkflow, 1, 30_000);
		assert.equal(at80.length, 1);
		assert.equal(at80[0].kind, 'budget');
		assert.equal(at80[0].threshold, '80%');
		assert.equal(at80[0].share, 0.8);
		assert.equal(at80[0].budget, 'workflow budget tasks');
		assert.match(String(at80[0].period), /^day \d{4}-\d{2}-\d{2}$/);
		assert.equal(at80[0].limitUsd, 0.1);
		assert.equal(at80[0].spentUsd, 0.08);
		assert.equal(at80[0].workflowId, tasksWorkflow);
		assert.deepEqual(at80[0].spend, {
			todayUsd: 0.08,
			byModel: { [`anthropic/${MODELS.anthropic}`]: 0.08 },
		});

		// A restart activates the trigger again (a poll at once): the 80 % stays announced.
		await ctx.n8n.restart();
		await sleep(65_000);
		assert.equal((await alerts(alertWorkflow)).length, 1, 'no second 80 % alert');

		const rest = await send(4);
		assert.equal(rest.answered.length, 2, 'up to the tenth cent');
		assert.deepEqual(
			rest.needsHuman.map((item) => (item.resilience as { reason: string }).reason),
			['over_budget', 'over_budget'],
		);
		assert.equal(ctx.emulator.count('anthropic'), 10, 'no call past the cap');
		const all = await alerts(alertWorkflow, 2, 75_000);
		assert.equal(all.length, 2);
		assert.equal(all[1].length, 1);
		assert.equal(all[1][0].threshold, '100%');
		assert.equal(all[1][0].share, 1);
		assert.equal(all[1][0].spentUsd, 0.1);

		// At least one scheduled poll more: nothing new.
		await sleep(65_000);
		const final = await alerts(alertWorkflow);
		assert.equal(final.length, 2, 'one alert per threshold');
		assert.deepEqual(
			final.flat().map((item) => item.threshold),
			['80%', '100%'],
		);
	});
});
