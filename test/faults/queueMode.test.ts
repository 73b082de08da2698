/**
 * Faults around n8n's queue mode, against real processes: a worker killed in the middle of a
 * batch, and PostgreSQL restarted while Human Reviews wait. Every input item must end on
 * exactly one output, no answer the provider sent and the store kept may be lost, and provider
 * calls stay within items x attempts, counted per item at the emulator.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';

import Redis from 'ioredis';

import { REVIEW_LINK_EXPRESSION } from '../../nodes/HumanReview/description';
import { ProviderEmulator } from '../../lib/emulator/server';
import type { Execution, ExecutionItem } from '../harness/n8n';
import { QueueMode } from '../harness/queueMode';
import { KEYS, MODELS } from '../support/emulator';
import { emulatorCredentials } from '../support/n8nFixture';
import {
	connect,
	humanReviewNode,
	reviewLinkNode,
	llmNode,
	setNode,
	splitItemsNode,
	webhookNode,
} from '../support/workflows';
import type { CredentialRefs } from '../support/workflows';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Connections = Parameters<typeof connect>[0];

let cluster: QueueMode;
const emulator = new ProviderEmulator();
let credentials: CredentialRefs;

before(async () => {
	await emulator.start();
	emulator.loadScenario({ apiKeys: KEYS });
	cluster = await QueueMode.start({
		workers: 2,
		concurrency: 5,
		env: {
			// A dead worker's job is noticed within seconds instead of minutes: its lock runs out
			// after 10 s, the live worker checks for stalled jobs every 3 s (n8n fails them rather
			// than run them twice), and the main marks the execution crashed within 3 s of that.
			QUEUE_WORKER_LOCK_DURATION: '10000',
			QUEUE_WORKER_LOCK_RENEW_TIME: '2000',
			QUEUE_WORKER_STALLED_INTERVAL: '3000',
			N8N_EXECUTIONS_QUEUE_RECOVERY_INTERVAL: '0.05',
		},
	});
	credentials = await emulatorCredentials(cluster.main, emulator);
	credentials.resilientLlmRedisApi = await cluster.redisCredential();
});

after(async () => {
	await cluster?.dispose();
	await emulator.stop();
});

/** What left each output of a node in its last run. */
function outputsOf(execution: Execution, node: string, count: number): ExecutionItem[][] {
	const runs = execution.data?.resultData.runData[node] ?? [];
	const main = runs[runs.length - 1]?.data?.main ?? [];
	return Array.from({ length: count }, (_, i) => main[i] ?? []);
}

/** Asserts each ticket left exactly one of the outputs, and returns which one. */
function outputPerTicket(outputs: ExecutionItem[][], tickets: string[]): Map<string, number> {
	const seen = new Map<string, number>();
	outputs.forEach((items, output) => {
		for (const item of items) {
			const ticket = String(item.json.ticket);
			assert.ok(!seen.has(ticket), `${ticket} left output ${seen.get(ticket)} and ${output}`);
			seen.set(ticket, output);
		}
	});
	assert.deepEqual([...seen.keys()].sort(), [...tickets].sort(), 'every item left once');
	return seen;
}

/** Provider calls per ticket, from the emulator's count per prompt. */
function callsPerTicket(tickets: string[]): Map<string, { calls: number; answered: number }> {
	const counts = [...emulator.promptCounts()];
	return new Map(
		tickets.map((ticket) => {
			const mine = counts.filter(([prompt]) => prompt.includes(`[${ticket}]`));
			return [
				ticket,
				{
					calls: mine.reduce((sum, [, c]) => sum + c.calls, 0),
					answered: mine.reduce((sum, [, c]) => sum + c.answered, 0),
				},
			];
		}),
	);
}

/**
 * Posts a review form on a connection of its own, as a reviewer's browser would after a while:
 * a keep-alive socket n8n closed during the outage is never reused. Network errors name their cause.
 */
function postForm(
	link: string,
	fields: Record<string, string>,
): Promise<{ status: number; text: string }> {
	const body = new URLSearchParams(fields).toString();
	return new Promise((resolve, reject) => {
		const req = request(
			link,
			{
				method: 'POST',
				agent: false,
				timeout: 30_000,
				headers: {
					'content-type': 'application/x-www-form-urlencoded',
					'content-length': Buffer.byteLength(body),
				},
			},
			(res) => {
				let text = '';
				res.setEncoding('utf8');
				res.on('data', (chunk: string) => (text += chunk));
				res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
				res.on('error', reject);
			},
		);
		req.on('timeout', () => req.destroy(new Error(`POST ${link}: no answer within 30 s`)));
		req.on('error', (error) => reject(new Error(`POST ${link}: ${error.message}`)));
		req.end(body);
	});
}

/** The tickets whose answer the Redis store holds (custom key `custom:<workflow>:<node>:<ticket>`). */
async function storedTickets(): Promise<Set<string>> {
	const redis = new Redis({ host: '127.0.0.1', port: cluster.redis.port, db: 1 });
	try {
		const tickets = new Set<string>();
		for (const key of await redis.keys('resilient-llm:idem:custom:*')) {
			const record = JSON.parse((await redis.get(key)) ?? '{}') as { status?: string };
			if (record.status === 'done') tickets.add(key.slice(key.lastIndexOf(':') + 1));
		}
		return tickets;
	} finally {
		redis.disconnect();
	}
}

describe('faults in n8n queue mode', () => {
	it('a worker killed mid-batch: running the items again repeats no provider call for items already answered', async () => {
		emulator.loadScenario({ apiKeys: KEYS, latencyMs: 500, reply: 'Answer to: {prompt}' });
		emulator.resetCounts();
		const attempts = 2;
		const path = 'fault-worker-kill';
		const nodes = [
			webhookNode(path, 'onReceived'),
			splitItemsNode(),
			llmNode(
				{
					prompt: '={{ $json.text }}',
					chain: {
						tiers: [
							{ provider: 'anthropic', model: MODELS.anthropic, attempts, timeoutSeconds: 20 },
						],
					},
					options: {
						stateStore: 'redis',
						onStoreUnavailable: 'fail',
						idempotency: 'custom',
						idempotencyKey: '={{ $json.ticket }}',
						// A dead worker's claims on its items run out 5 s after this; a re-run waits for them.
						deadlineSeconds: 30,
						concurrency: 2,
						circuitBreaker: false,
						initialBackoffMs: 5,
					},
				},
				credentials,
				{ onError: 'continueErrorOutput' },
			),
		];
		const connections: Connections = {};
		connect(connections, 'Webhook', 0, 'Split Items');
		connect(connections, 'Split Items', 0, 'Resilient LLM');
		const workflowId = await cluster.main.createWorkflow({
			name: 'fault worker kill',
			nodes,
			connections,
		});
		const tickets = Array.from({ length: 40 }, (_, i) => `W-${String(i).padStart(2, '0')}`);
		const started = /Worker started execution (\d+) /g;
		const startedBefore = cluster.workers.map((w) => w.logs().match(started)?.length ?? 0);
		const response = await cluster.main.webhook(path, {
			items: tickets.map((ticket) => ({ ticket, text: `Summarise [${ticket}]` })),
		});
		assert.equal(response.status, 200);

		// Kill the worker running the batch once a fifth of the items have their answer stored
		// (counted in the store, not at the emulator: an answer sent is recorded a moment later).
		const deadline = Date.now() + 60_000;
		let worker = -1;
		while (Date.now() < deadline) {
			worker = cluster.workers.findIndex(
				(w, i) => (w.logs().match(started)?.length ?? 0) > startedBefore[i],
			);
			if (worker >= 0 && (await storedTickets()).size >= 8) break;
			await sleep(20);
		}
		assert.ok(worker >= 0, 'the batch runs on a worker');
		const executionId = [...cluster.workers[worker].logs().matchAll(started)].at(-1)![1];
		await cluster.workers[worker].stop('SIGKILL');
		const atCrash = callsPerTicket(tickets);
		const stored = await storedTickets();
		const calledBefore = tickets.filter((t) => atCrash.get(t)!.calls > 0);
		assert.ok(
			stored.size >= 8 && calledBefore.length < tickets.length,
			`killed mid-batch: ${stored.size} answers stored, ${calledBefore.length} items called`,
		);
		const total = () => [...callsPerTicket(tickets).values()].reduce((sum, c) => sum + c.calls, 0);

		// n8n notices the dead worker: the execution shows as crashed, then, once n8n gives the
		// job up, as failed. The editor offers Retry on it.
		await cluster.main.executionWhen(
			executionId,
			(e) => e.status === 'error',
			'n8n to give the execution up',
		);
		await cluster.main.rest(
			'POST',
			`/rest/executions/${executionId}/retry`,
			{ loadWorkflow: false },
			180_000,
		);
		const retry = (await cluster.main.executions(workflowId, 5)).find((e) => e.id !== executionId);
		assert.ok(retry, "n8n's retry is an execution of its own");
		const retried = await cluster.main.executionWhen(
			retry.id,
			(e) => !['new', 'running', 'waiting'].includes(e.status),
			"n8n's retry to end",
		);
		// When n8n 2.41.1 gives a job up after its worker died, it replaces the execution's data
		// with an empty run (workflow-runner.js, MaxStalledCountError), so its Retry has no item
		// left to run. Whatever it runs, it must not ask the provider again for a stored answer.
		assert.equal(retried.data?.resultData.runData['Resilient LLM'], undefined);
		const afterN8nRetry = callsPerTicket(tickets);
		for (const ticket of stored)
			assert.equal(afterN8nRetry.get(ticket)!.calls, 1, `${ticket} not called again`);

		// Run the same items again, as the caller does when its batch did not complete.
		const rerun = await cluster.main.webhook(path, {
			items: tickets.map((ticket) => ({ ticket, text: `Summarise [${ticket}]` })),
		});
		assert.equal(rerun.status, 200);
		let again: Execution | undefined;
		const rerunDeadline = Date.now() + 120_000;
		while (!again) {
			assert.ok(Date.now() < rerunDeadline, 'the batch ran again');
			const latest = (await cluster.main.executions(workflowId, 5)).find(
				(e) => e.id !== executionId && e.id !== retry.id,
			);
			if (latest && !['new', 'running', 'waiting'].includes(latest.status))
				again = await cluster.main.execution(latest.id);
			else await sleep(250);
		}
		assert.equal(again.status, 'success', JSON.stringify(again.data?.resultData.error ?? ''));

		const outputs = outputsOf(again, 'Resilient LLM', 3);
		outputPerTicket(outputs, tickets);
		assert.deepEqual(
			outputs.map((o) => o.length),
			[tickets.length, 0, 0],
			'every item on Answered',
		);
		const after = callsPerTicket(tickets);
		const cached = new Set<string>();
		for (const item of outputs[0]) {
			const ticket = String(item.json.ticket);
			assert.match(String(item.json.text), /^Answer to: /, `${ticket}: an answer`);
			assert.ok(String(item.json.text).endsWith(`Summarise [${ticket}]`), `${ticket}'s own answer`);
			const { calls } = after.get(ticket)!;
			assert.ok(calls <= attempts, `${ticket}: ${calls} calls, at most ${attempts}`);
			if ((item.json.resilience as { cached?: boolean }).cached) cached.add(ticket);
		}
		// Every answer the store held when the worker died came back from it, with no new call;
		// only items that had no stored answer were asked again.
		assert.deepEqual([...cached].sort(), [...stored].sort(), 'each stored answer delivered');
		for (const ticket of stored) assert.equal(after.get(ticket)!.calls, 1, `${ticket}: one call`);
		assert.ok(total() <= tickets.length * attempts, `${total()} provider calls`);
		assert.equal(
			total(),
			tickets.length + calledBefore.length - stored.size,
			'one more call for each item that had none stored',
		);
	});

	it('PostgreSQL restarted while Human Reviews wait: each review resumes exactly once', async () => {
		// The one provider in this chain is down: every ticket goes to Needs Human, then review.
		emulator.loadScenario({
			apiKeys: KEYS,
			rules: [{ provider: 'openai', fault: 'server_error' }],
		});
		emulator.resetCounts();
		const path = 'fault-postgres-reviews';
		const nodes = [
			webhookNode(path, 'onReceived'),
			splitItemsNode(),
			llmNode(
				{
					prompt: '={{ $json.text }}',
					chain: {
						tiers: [{ provider: 'openai', model: MODELS.openai, attempts: 1, timeoutSeconds: 10 }],
					},
					options: {
						stateStore: 'redis',
						onStoreUnavailable: 'fail',
						idempotency: 'off',
						circuitBreaker: false,
						initialBackoffMs: 5,
					},
				},
				credentials,
				{ onError: 'continueErrorOutput' },
			),
			reviewLinkNode('Review Link', [550, 120]),
			setNode('Compose Message', { reviewLink: `=${REVIEW_LINK_EXPRESSION}` }, [660, 120]),
			{
				...humanReviewNode({
					title: '=Ticket {{ $json.ticket }}',
					details: '={{ $json.text }}',
					options: { stateStore: 'redis' },
				}),
				credentials: { resilientLlmRedisApi: credentials.resilientLlmRedisApi },
			},
			setNode('After Approval', { branch: 'approved' }, [1100, 0]),
			setNode('After Rejection', { branch: 'rejected' }, [1100, 200]),
		];
		const connections: Connections = {};
		connect(connections, 'Webhook', 0, 'Split Items');
		connect(connections, 'Split Items', 0, 'Resilient LLM');
		connect(connections, 'Resilient LLM', 1, 'Review Link');
		connect(connections, 'Review Link', 0, 'Compose Message');
		connect(connections, 'Compose Message', 0, 'Human Review');
		connect(connections, 'Human Review', 1, 'After Approval');
		connect(connections, 'Human Review', 2, 'After Rejection');
		const workflowId = await cluster.main.createWorkflow({
			name: 'fault postgres reviews',
			nodes,
			connections,
		});
		const tickets = Array.from({ length: 6 }, (_, i) => `P-${i}`);
		for (const ticket of tickets) {
			const response = await cluster.main.webhook(path, {
				items: [{ ticket, text: `Refund [${ticket}]?` }],
			});
			assert.equal(response.status, 200);
		}
		const reviews = new Map<string, { executionId: string; link: string }>();
		const deadline = Date.now() + 120_000;
		while (reviews.size < tickets.length) {
			assert.ok(Date.now() < deadline, `${reviews.size} of ${tickets.length} reviews waiting`);
			for (const { id, status } of await cluster.main.executions(workflowId)) {
				if (status !== 'waiting' || [...reviews.values()].some((r) => r.executionId === id))
					continue;
				const execution = await cluster.main.execution(id);
				const [item] = outputsOf(execution, 'Compose Message', 1)[0];
				reviews.set(String(item.json.ticket), {
					executionId: id,
					link: String(item.json.reviewLink),
				});
			}
			await sleep(250);
		}

		// A decision sent while the database is down cannot be taken: it must not use the review up.
		let downStatus = 0;
		await cluster.postgres.restart('SIGINT', async () => {
			downStatus = await postForm(reviews.get('P-0')!.link, { decision_0: 'approve' })
				.then((r) => r.status)
				.catch(() => 0);
		});
		assert.notEqual(downStatus, 200, 'no decision is accepted without the database');
		await cluster.main.waitUntilReady();

		const decide = (ticket: string): Record<string, string> =>
			Number(ticket.slice(2)) % 2 === 0
				? { decision_0: 'approve', name: 'Ops' }
				: { decision_0: 'reject', comment: 'Not covered.', name: 'Ops' };
		for (const ticket of tickets) {
			const { link } = reviews.get(ticket)!;
			const first = await postForm(link, decide(ticket));
			assert.equal(first.status, 200, `${ticket}: ${first.text}`);
			// Refused: 409 from the node or n8n, or a 500 from n8n when it lands while n8n is
			// resuming the execution. It resumes nothing, as the branches checked below show.
			const second = await postForm(link, { decision_0: 'approve', name: 'Late' });
			assert.ok(
				[409, 500].includes(second.status),
				`${ticket}: a second decision: ${second.status}`,
			);
		}
		for (const ticket of tickets) {
			const { executionId, link } = reviews.get(ticket)!;
			const execution = await cluster.main.executionWhen(
				executionId,
				(e) => e.finished,
				'the resume',
			);
			assert.equal(execution.status, 'success');
			const approve = Number(ticket.slice(2)) % 2 === 0;
			const perTicket = outputPerTicket(outputsOf(execution, 'Human Review', 3), [ticket]);
			assert.equal(perTicket.get(ticket), approve ? 1 : 2, `${ticket} on its decision's output`);
			const runs = execution.data!.resultData.runData;
			assert.equal(
				(runs['After Approval'] ?? []).length,
				approve ? 1 : 0,
				`${ticket} resumed once`,
			);
			assert.equal(
				(runs['After Rejection'] ?? []).length,
				approve ? 0 : 1,
				`${ticket} resumed once`,
			);
			const late = await postForm(link, { decision_0: 'reject', comment: 'Again.', name: 'Late' });
			assert.equal(late.status, 409, `${ticket}: a decision after the resume`);
		}
		assert.equal(emulator.count('openai'), tickets.length, 'one provider call per item');
	});
});
