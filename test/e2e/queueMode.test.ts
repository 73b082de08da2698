/**
 * The Redis state store in n8n's queue mode: PostgreSQL, Redis, one main and two workers.
 * Idempotency and the circuit breaker must hold across workers, counted at the emulator.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { ProviderEmulator } from '../../lib/emulator/server';
import { RedisStateStore } from '../../lib/state/redisStore';
import type { Execution } from '../harness/n8n';
import { QueueMode } from '../harness/queueMode';
import { KEYS, MODELS } from '../support/emulator';
import { emulatorCredentials } from '../support/n8nFixture';
import { alertTriggerNode, llmWorkflow, oneAttemptChain, workflow } from '../support/workflows';
import type { CredentialRefs } from '../support/workflows';

type Item = { json: Record<string, unknown> };
type Attempt = { tier: number; status: string; message?: string };

let cluster: QueueMode;
const emulator = new ProviderEmulator();
let credentials: CredentialRefs;
/** Tasks the "queue breaker" test ran, for the alert test after it. */
let breakerTasks = 0;

before(async () => {
	await emulator.start();
	emulator.loadScenario({ apiKeys: KEYS });
	cluster = await QueueMode.start({ workers: 2, concurrency: 5 });
	credentials = await emulatorCredentials(cluster.main, emulator);
	credentials.resilientLlmRedisApi = await cluster.redisCredential();
});

after(async () => {
	await cluster?.dispose();
	await emulator.stop();
});

function answered(execution: Execution): Item[] {
	return (execution.data?.resultData.runData['Resilient LLM']?.[0]?.data?.main[0] ?? []) as Item[];
}

/** Runs `task(i)` for i < count with at most `width` in flight. */
async function inFlight<T>(count: number, width: number, task: (i: number) => Promise<T>) {
	const results: T[] = new Array(count);
	let next = 0;
	await Promise.all(
		Array.from({ length: width }, async () => {
			while (next < count) {
				const i = next++;
				results[i] = await task(i);
			}
		}),
	);
	return results;
}

describe('n8n queue mode with the Redis store', () => {
	it('200 executions with 50 distinct keys make exactly 50 provider calls across two workers', async () => {
		emulator.loadScenario({ apiKeys: KEYS, latencyMs: 150, reply: 'Answer to: {prompt}' });
		emulator.resetCounts();
		const path = 'queue-idempotency';
		const workflowId = await cluster.main.createWorkflow(
			llmWorkflow(
				'queue idempotency',
				path,
				{
					prompt: '={{ $json.text }}',
					chain: oneAttemptChain(['anthropic'], 30),
					options: {
						stateStore: 'redis',
						idempotency: 'custom',
						idempotencyKey: '={{ $json.ticket }}',
						deadlineSeconds: 60,
					},
				},
				credentials,
			),
		);
		// Each key's four executions are sent together, so claims on one key race across workers.
		const ticket = (i: number) => `Q-${Math.floor(i / 4)}`;
		const responses = await inFlight(200, 20, (i) =>
			cluster.main.webhook(path, {
				items: [{ text: `Summarise ${ticket(i)}`, ticket: ticket(i) }],
			}),
		);
		assert.deepEqual(
			responses.map((r) => r.status),
			Array(200).fill(200),
		);
		assert.equal(emulator.count('anthropic'), 50, 'one provider call per key');

		const bodies = responses.map((r) => (r.body as Item['json'][])[0]);
		// Every execution got the answer stored for its own key.
		bodies.forEach((body, i) =>
			assert.ok(
				String(body.text).endsWith(`Summarise ${ticket(i)}`),
				`execution ${i}: ${body.text}`,
			),
		);
		const cached = bodies.filter((b) => (b.resilience as { cached?: boolean }).cached === true);
		assert.equal(cached.length, 150);

		const executions = await cluster.main.executions(workflowId, 250);
		assert.equal(executions.length, 200);
		const perWorker = [0, 0];
		for (const execution of executions) {
			assert.equal(execution.status, 'success', `execution ${execution.id}`);
			const worker = cluster.workerOf(execution.id);
			assert.notEqual(worker, undefined, `execution ${execution.id} ran on a worker`);
			perWorker[worker!]++;
		}
		assert.ok(
			perWorker.every((n) => n > 0),
			`both workers ran executions: ${perWorker.join(' / ')}`,
		);
	});

	it('after the breaker opens on one worker, the other worker skips the primary too', async () => {
		emulator.loadScenario({
			apiKeys: KEYS,
			rules: [{ provider: 'anthropic', fault: 'overloaded' }],
		});
		emulator.resetCounts();
		const path = 'queue-breaker';
		const workflowId = await cluster.main.createWorkflow(
			llmWorkflow(
				'queue breaker',
				path,
				{
					prompt: '={{ $json.text }}',
					chain: oneAttemptChain(['anthropic', 'openai']),
					options: {
						stateStore: 'redis',
						circuitBreaker: true,
						breakerThreshold: 2,
						breakerCooldownSeconds: 600,
					},
				},
				credentials,
			),
		);
		const run = async (n: number) => {
			const response = await cluster.main.webhook(path, { items: [{ text: `Task ${n}` }] });
			assert.equal(response.status, 200);
			const execution = await cluster.main.latestExecution(workflowId);
			const [item] = answered(execution);
			const resilience = item.json.resilience as { tier: number; attempts: Attempt[] };
			return { execution, resilience, worker: cluster.workerOf(execution.id) };
		};

		// Two failures of the primary, on whichever workers took them, open its circuit.
		let opener = await run(0);
		const primaryFailures = [opener];
		opener = await run(1);
		primaryFailures.push(opener);
		for (const { resilience } of primaryFailures) {
			assert.equal(resilience.attempts[0].status, 'failed');
			assert.equal(resilience.tier, 2);
		}
		assert.equal(emulator.count('anthropic'), 2);
		const openedOn = opener.worker;
		assert.notEqual(openedOn, undefined);

		// Sequential executions alternate between the idle workers; stop once the other worker
		// has run three of them.
		const skipped: Array<Awaited<ReturnType<typeof run>>> = [];
		for (let n = 2; n < 40 && skipped.filter((s) => s.worker !== openedOn).length < 3; n++) {
			skipped.push(await run(n));
		}
		const onOther = skipped.filter((s) => s.worker !== openedOn);
		assert.ok(onOther.length >= 3, `the other worker ran ${onOther.length} executions`);
		assert.equal(emulator.count('anthropic'), 2, 'no worker called the primary again');
		for (const { resilience } of skipped) {
			assert.equal(resilience.attempts[0].status, 'skipped');
			assert.equal(resilience.attempts[0].message, 'skipped: circuit open');
			assert.equal(resilience.tier, 2);
		}
		assert.equal(emulator.count('openai'), 2 + skipped.length);
		breakerTasks = 2 + skipped.length;
	});

	it('the Resilience Alert trigger on the main reads what the workers counted in Redis', async () => {
		// Poll triggers run on the main; the tasks ran on the workers. Left by the tests above:
		// "queue idempotency" all at tier 1, "queue breaker" all at tier 2 with the primary's
		// circuit open.
		// Workers write their counters once a second: wait (bounded) until all are in Redis.
		const store = new RedisStateStore({ host: '127.0.0.1', port: cluster.redis.port, database: 1 });
		await store.connect();
		try {
			const written = async () =>
				[...(await store.readCounters(Date.now() - 900_000, Date.now() + 60_000)).values()].find(
					(c) => c.workflowName === 'queue breaker',
				)?.tasks ?? 0;
			const giveUpAt = performance.now() + 30_000;
			while ((await written()) < breakerTasks && performance.now() < giveUpAt)
				await new Promise((resolve) => setTimeout(resolve, 50));
			assert.equal(await written(), breakerTasks);
		} finally {
			await store.close();
		}
		const alertWorkflow = await cluster.main.createWorkflow(
			workflow('queue alerts', [
				alertTriggerNode(
					{ stateStore: 'redis', windowMinutes: 15 },
					{ resilientLlmRedisApi: credentials.resilientLlmRedisApi },
				),
			]),
		);
		const [items] = await cluster.main.nodeOutputs(alertWorkflow, 'Resilience Alert', 1);
		const byKind = new Map(items.map((item) => [item.kind, item]));
		assert.deepEqual([...byKind.keys()].sort(), ['breaker_open', 'fallback_rate']);
		const fallback = byKind.get('fallback_rate')!;
		assert.equal(fallback.event, 'incident');
		assert.equal(fallback.workflowName, 'queue breaker');
		assert.deepEqual(fallback.rates, { answeredBelowTier1: 1, escalated: 0 });
		// The circuit is the model at one endpoint with one key: named by a hash, never the key.
		const breaker = byKind.get('breaker_open')!;
		assert.match(String(breaker.subject), /^anthropic\/claude-haiku-4-5#[0-9a-f]{16}$/);
		assert.equal(breaker.model, MODELS.anthropic);
	});

	it('warns once when a node in queue mode uses the embedded store', async () => {
		emulator.loadScenario({ apiKeys: KEYS });
		const path = 'queue-embedded';
		await cluster.main.createWorkflow(
			llmWorkflow(
				'queue embedded',
				path,
				{
					prompt: '={{ $json.text }}',
					chain: oneAttemptChain(['anthropic']),
					options: { idempotency: 'derived' },
				},
				credentials,
			),
		);
		for (let i = 0; i < 4; i++) {
			const response = await cluster.main.webhook(path, { items: [{ text: `Embedded ${i}` }] });
			assert.equal(response.status, 200);
		}
		const warning = /uses the embedded state store, which each worker keeps to itself/g;
		const counts = cluster.workers.map((w) => w.logs().match(warning)?.length ?? 0);
		assert.ok(
			counts.some((n) => n === 1) && counts.every((n) => n <= 1),
			`warnings per worker: ${counts.join(' / ')}`,
		);
	});

	it('a $0.10 day budget shared by two workers: racing items never spend past it, and a worker restart keeps what was spent', async () => {
		emulator.loadScenario({ apiKeys: KEYS, latencyMs: 150, reply: 'Answer to: {prompt}' });
		emulator.resetCounts();
		const path = 'queue-budget';
		const budgetName = `queue budget ${Date.now()}`;
		const workflowId = await cluster.main.createWorkflow(
			llmWorkflow(
				'queue budget',
				path,
				{
					prompt: '={{ $json.text }}',
					chain: {
						tiers: [
							{
								provider: 'openai',
								model: MODELS.openai,
								attempts: 1,
								timeoutSeconds: 30,
								// $0.001 an output token: an answer of about ten tokens costs about $0.01.
								tierOptions: { inputPrice: 0.000001, outputPrice: 1000 },
							},
						],
					},
					options: {
						stateStore: 'redis',
						maxOutputTokens: 20,
						budgetUsd: 0.1,
						budgetPeriod: 'day',
						budgetName,
					},
				},
				credentials,
			),
		);
		const send = (i: number) =>
			cluster.main.webhook(path, { items: [{ text: `Summarise B-${i}` }] });
		const first = await inFlight(30, 10, send);
		assert.deepEqual(
			first.map((r) => r.status),
			Array(30).fill(200),
		);
		/** Every item of the workflow's executions: answered ones and Needs Human ones. */
		const outcomes = async () => {
			const listed = await cluster.main.executions(workflowId, 100);
			const executions = await Promise.all(listed.map((e) => cluster.main.execution(e.id)));
			const items = executions.flatMap((execution) => {
				const main = execution.data?.resultData.runData['Resilient LLM']?.[0]?.data?.main ?? [];
				return [
					...((main[0] ?? []) as Item[]).map((item) => ({ answered: true, json: item.json })),
					...((main[1] ?? []) as Item[]).map((item) => ({ answered: false, json: item.json })),
				];
			});
			const spent = items
				.filter((item) => item.answered)
				.reduce(
					(sum, item) => sum + Number((item.json.resilience as { costUsd: number }).costUsd),
					0,
				);
			return { items, spent };
		};
		const before = await outcomes();
		assert.equal(before.items.length, 30, 'every item on one output');
		const answered = before.items.filter((item) => item.answered);
		assert.ok(answered.length >= 6, `${answered.length} answered`);
		assert.ok(before.spent <= 0.1 + 1e-9, `spent $${before.spent} of $0.10`);
		assert.equal(emulator.count('openai'), answered.length, 'no call was made past the budget');
		for (const item of before.items.filter((i) => !i.answered)) {
			assert.equal((item.json.resilience as { reason?: string }).reason, 'over_budget');
			assert.match(String(item.json.reason), new RegExp(`The spend budget "${budgetName}"`));
		}
		const budget = answered.at(-1)?.json.resilience as {
			budget?: { name: string; limitUsd: number };
		};
		assert.equal(budget.budget?.name, budgetName);
		assert.equal(budget.budget?.limitUsd, 0.1);
		// Both workers restart: what was spent is in Redis, not in a worker.
		await cluster.removeWorker();
		await cluster.removeWorker();
		await cluster.addWorker();
		await cluster.addWorker();
		const calls = emulator.count('openai');
		const again = await inFlight(4, 4, (i) => send(100 + i));
		assert.deepEqual(
			again.map((r) => r.status),
			Array(4).fill(200),
		);
		const after = await outcomes();
		assert.equal(after.items.length, 34);
		assert.equal(emulator.count('openai'), calls, 'no call after the restart: the budget is spent');
		assert.equal(after.items.filter((item) => item.answered).length, answered.length);
	});
});
