/**
 * Two queue-mode workers racing at a spend budget's cap: 200 one-item executions, 20 in
 * flight, each answer costing about $0.01, against a $1.00 day budget kept in Redis. Reported:
 * what was spent past the cap (none, if reservations hold), the price of the calls in flight
 * when the cap was reached (the bound the issue sets), and the items past the cap that went
 * to Needs Human with the reason `over_budget`.
 */
import type { ProviderEmulator } from '../../../lib/emulator/server';
import type { Execution } from '../../harness/n8n';
import { QueueMode } from '../../harness/queueMode';
import { KEYS, MODELS } from '../../support/emulator';
import { emulatorCredentials } from '../../support/n8nFixture';
import { llmWorkflow } from '../../support/workflows';
import { figures, progress, round, rows } from '../report';

const EXECUTIONS = 200;
const IN_FLIGHT = 20;
const BUDGET_USD = 1;

type Item = { json: Record<string, unknown> };

/** Each item of an execution: answered with its cost, or Needs Human with its reason code. */
function itemsOf(execution: Execution): Array<{ costUsd?: number; reason?: string }> {
	const main = execution.data?.resultData.runData['Resilient LLM']?.[0]?.data?.main ?? [];
	const resilience = (item: Item) => item.json.resilience as { costUsd: number; reason?: string };
	return [
		...((main[0] ?? []) as Item[]).map((item) => ({ costUsd: resilience(item).costUsd })),
		...((main[1] ?? []) as Item[]).map((item) => ({ reason: resilience(item).reason })),
	];
}

export async function budgetRace(emulator: ProviderEmulator): Promise<void> {
	emulator.loadScenario({ apiKeys: KEYS, latencyMs: 300, reply: 'Answer to: {prompt}' });
	emulator.resetCounts();
	progress('limits: budget race, queue mode with two workers, a $1.00 day budget in Redis');
	const cluster = await QueueMode.start({ workers: 2 });
	try {
		const credentials = await emulatorCredentials(cluster.main, emulator);
		credentials.resilientLlmRedisApi = await cluster.redisCredential();
		const workflowId = await cluster.main.createWorkflow(
			llmWorkflow(
				'budget race',
				'budget-race',
				{
					prompt: '={{ $json.text }}',
					chain: {
						tiers: [
							{
								provider: 'openai',
								model: MODELS.openai,
								attempts: 1,
								// $0.0014 an output token: an answer of about seven tokens costs about $0.01.
								tierOptions: { inputPrice: 0.000001, outputPrice: 1400 },
							},
						],
					},
					options: {
						stateStore: 'redis',
						maxOutputTokens: 20,
						budgetUsd: BUDGET_USD,
						budgetPeriod: 'day',
						budgetName: `bench race ${Date.now()}`,
					},
				},
				credentials,
			),
		);
		let next = 0;
		await Promise.all(
			Array.from({ length: IN_FLIGHT }, async () => {
				while (next < EXECUTIONS) {
					const i = next++;
					await cluster.main.webhook('budget-race', { items: [{ text: `Summarise R-${i}` }] });
				}
			}),
		);
		const listed = await cluster.main.executions(workflowId, EXECUTIONS + 10);
		const items = (await Promise.all(listed.map((e) => cluster.main.execution(e.id)))).flatMap(
			itemsOf,
		);
		const answered = items.filter((item) => item.costUsd !== undefined);
		const spent = answered.reduce((sum, item) => sum + (item.costUsd ?? 0), 0);
		const perCall = spent / Math.max(1, answered.length);
		const overBudget = items.filter((item) => item.reason === 'over_budget').length;
		// At most this many calls were out at once, so at most this much was in flight at the cap.
		const inflight = emulator.stats().maxInFlight * perCall;
		figures.budget_spent_usd = round(spent, 4);
		figures.budget_overspend_usd = round(Math.max(0, spent - BUDGET_USD), 4);
		figures.budget_inflight_usd = round(inflight, 4);
		figures.budget_answered = answered.length;
		figures.budget_over_budget_items = overBudget;
		figures.budget_items = items.length;
		rows.push([
			'budget_overspend_usd (2 workers racing at a $1.00 day budget)',
			`$${figures.budget_overspend_usd} past the cap; in flight at most $${figures.budget_inflight_usd}`,
			`$${round(spent, 4)} spent on ${answered.length} answers; ${overBudget}/${items.length - answered.length} of the rest on Needs Human as over_budget; ${emulator.count('openai')} calls`,
		]);
	} finally {
		await cluster.dispose();
	}
}
