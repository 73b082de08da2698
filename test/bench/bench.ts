/**
 * npm run bench: measured figures against the provider emulator, in one process and one run.
 * Prints a table, then one JSON line last.
 *
 *   overhead_ms_median       engine's added latency per successful call over the same SDK called directly
 *   outage_naive_s           mean time per task, primary always 529, naive retry-then-fallback pattern
 *   outage_engine_s          the same tasks through the engine
 *   secondary_s              the secondary's own latency (the floor for both)
 *   heap_mb_per_1000_tasks   heap growth per batch of 1,000 completed tasks, after the first batch
 *   batch_1000_wall_s        1,000 items through the node's item loop, 100 ms latency, concurrency 16
 *   batch_ideal_s            1000 * 0.1 / 16
 *   n8n_exec_per_s_node      webhook executions per second in a real n8n, workflow with this node
 *   n8n_exec_per_s_http      the same workflow with the stock HTTP Request node calling the emulator
 *   outage_breaker_s         the outage tasks with the circuit breaker on (embedded store), all 20
 *   outage_breaker_open_s    the same, only the tasks after the breaker opened
 *   idempotent_hit_ms_median time to return a stored result, embedded and Redis
 *   queue_mode_exec_per_s    n8n queue mode (PostgreSQL, Redis, a main): executions per second
 *                            with two workers and with one, 2 s provider latency, 40 in flight
 *   builtin_<scenario>_*     n8n's Basic LLM Chain with Enable Fallback Model (Anthropic Chat Model,
 *   ours_<scenario>_*        then OpenAI Chat Model) against Resilient LLM (Anthropic, then OpenAI)
 *                            with default options, in one n8n: ms per item (median over executions
 *                            3-10 of 10, 5 items each) and the share answered by the primary, for
 *                            healthy, outage (529 always), flapping (529 on every third call) and
 *                            quota (429 quota exhausted always)
 *   redis_blip_recovery_s    (chaos) a real n8n with the Redis store: Redis killed (SIGKILL) during
 *                            a 200-item batch and started 5 s later; from Redis answering again to
 *                            the end of the first execution whose item used it again (the worse
 *                            of the two runs, "fail" and "proceed")
 *   chaos_items_lost         (chaos) over those batches (a fifth of the primary's calls dropped
 *                            mid-body) and the executions after: items not on exactly one output,
 *                            plus answers the provider sent that no item delivered
 *   first_batch_slow_needs_human  (slow) a real n8n, default options, 8 items at Concurrency 4,
 *                            answers taking 2 s and 5 s in turn, one tier and two: items sent to
 *                            Needs Human over the batches on new circuits and again on warm ones
 *   first_batch_slow_ratio   (slow) that batch's wall time on new circuits over the same batch on
 *                            the warm circuits (the worse of one tier and two)
 *   redis_latency_deadline_overrun_ms  (redis) 20 tasks at once, breaker and idempotency on a Redis
 *                            100 ms away each way (a latency proxy on loopback), a 3 s deadline and
 *                            1 s answers: the worst task's time past its deadline
 *   agent_outage_ratio       an AI Agent's two-tool task on Resilient Chat Model (breaker on):
 *                            median wall time with the primary down, once its circuit opened,
 *                            over the same with the primary up
 */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CircuitBreaker } from '../../lib/engine/breaker/circuitBreaker';
import { FailoverChain } from '../../lib/engine/failoverChain';
import { runOnce } from '../../lib/state/idempotency';
import { RedisStateStore } from '../../lib/state/redisStore';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import type { StateStore } from '../../lib/state/types';
import { RedisServer } from '../harness/redis';
import { ResilientLlm } from '../../nodes/ResilientLlm/ResilientLlm.node.ts';
import { N8n } from '../harness/n8n';
import { QueueMode } from '../harness/queueMode';
import { agentWorkflow, TOOL_NAMES } from '../support/agentWorkflows';
import { fakeExecute } from '../support/fakeExecute';
import { llmNode, llmWorkflow, splitItemsNode, webhookNode, workflow } from '../support/workflows';
import type { CredentialRefs, WorkflowNode } from '../support/workflows';
import type { Rule } from '../../lib/emulator/scenario';
import { KEYS, MODELS } from '../support/emulator';
import { emulatorCredentials } from '../support/n8nFixture';
import { itemsLost, outputsOf } from '../support/executionOutputs';
import { LatencyProxy } from '../support/latencyProxy';
import { storeFaultOptions } from '../support/storeFaultOptions';
import { OrderService } from '../support/orderService';
import type { TierConfig } from '../../lib/engine/types';
import { ProviderEmulator } from '../../lib/emulator/server';

const KEY = 'bench-key';
const rows: [string, string, string][] = [];
const figures: Record<string, number> = {};

function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = sorted.length >> 1;
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function mean(values: number[]): number {
	return values.reduce((s, v) => s + v, 0) / values.length;
}

function round(value: number, digits = 3): number {
	const f = 10 ** digits;
	return Math.round(value * f) / f;
}

function progress(message: string): void {
	process.stderr.write(`bench: ${message}\n`);
}

async function overhead(emulator: ProviderEmulator): Promise<void> {
	emulator.loadScenario({});
	const direct = new OpenAI({
		apiKey: KEY,
		baseURL: emulator.urls.openai,
		maxRetries: 0,
		timeout: 61_000,
	});
	const chain = new FailoverChain({
		tiers: [
			{ provider: 'openai', model: 'gpt-4o-mini', apiKey: KEY, baseUrl: emulator.urls.openai },
		],
	});
	const directCall = () =>
		direct.chat.completions.create({
			model: 'gpt-4o-mini',
			messages: [{ role: 'user', content: 'Say hi.' }],
			max_completion_tokens: 1024,
		});
	const engineCall = () => chain.run({ prompt: 'Say hi.' });
	for (let i = 0; i < 300; i++) {
		await directCall();
		await engineCall();
	}
	const directMs: number[] = [];
	const engineMs: number[] = [];
	// Interleaved, alternating which goes first, so drift in the machine hits both equally.
	for (let i = 0; i < 3000; i++) {
		const order =
			i % 2 === 0 ? ([directCall, engineCall] as const) : ([engineCall, directCall] as const);
		for (const fn of order) {
			const started = performance.now();
			await fn();
			(fn === directCall ? directMs : engineMs).push(performance.now() - started);
		}
	}
	const d = median(directMs);
	const e = median(engineMs);
	figures.direct_sdk_ms_median = round(d);
	figures.engine_ms_median = round(e);
	figures.overhead_ms_median = round(e - d);
	rows.push(['direct OpenAI SDK call, median', `${round(d)} ms`, '3000 calls']);
	rows.push(['same call through the engine, median', `${round(e)} ms`, '3000 calls, interleaved']);
	rows.push(['overhead_ms_median', `${round(e - d)} ms`, 'target <= 0.3 ms']);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function outage(emulator: ProviderEmulator): Promise<void> {
	const TASKS = 20;
	emulator.loadScenario({
		rules: [
			{ provider: 'anthropic', model: 'claude-haiku-4-5', fault: 'overloaded' },
			{ provider: 'openai', model: 'gpt-4o-mini', latencyMs: 50 },
		],
	});
	const primary = new Anthropic({
		apiKey: KEY,
		baseURL: emulator.urls.anthropic,
		maxRetries: 0,
		timeout: 30_000,
	});
	const secondary = new OpenAI({
		apiKey: KEY,
		baseURL: emulator.urls.openai,
		maxRetries: 0,
		timeout: 30_000,
	});
	const askSecondary = () =>
		secondary.chat.completions.create({
			model: 'gpt-4o-mini',
			messages: [{ role: 'user', content: 'Summarise.' }],
			max_completion_tokens: 1024,
		});

	// The secondary's own latency: the floor for any failover.
	const own: number[] = [];
	for (let i = 0; i < TASKS; i++) {
		const started = performance.now();
		await askSecondary();
		own.push(performance.now() - started);
	}
	figures.secondary_s = round(mean(own) / 1000);

	// The common naive pattern: 3 tries on the primary, sleeping 1 s * 1.5^n plus up to 0.5 s
	// of jitter after each failure, then one fallback model.
	progress(`outage, naive baseline: ${TASKS} tasks, about 5.5 s each`);
	const naive: number[] = [];
	for (let i = 0; i < TASKS; i++) {
		const started = performance.now();
		for (let n = 0; n < 3; n++) {
			try {
				await primary.messages.create({
					model: 'claude-haiku-4-5',
					max_tokens: 1024,
					messages: [{ role: 'user', content: 'Summarise.' }],
				});
				break;
			} catch {
				await sleep(1000 * 1.5 ** n + Math.random() * 500);
			}
		}
		await askSecondary();
		naive.push(performance.now() - started);
	}
	figures.outage_naive_s = round(mean(naive) / 1000);

	progress(`outage, engine: ${TASKS} tasks`);
	const tiers: TierConfig[] = [
		{
			provider: 'anthropic',
			model: 'claude-haiku-4-5',
			apiKey: KEY,
			baseUrl: emulator.urls.anthropic,
		},
		{ provider: 'openai', model: 'gpt-4o-mini', apiKey: KEY, baseUrl: emulator.urls.openai },
	];
	const chain = new FailoverChain({ tiers });
	const engine: number[] = [];
	for (let i = 0; i < TASKS; i++) {
		const started = performance.now();
		const result = await chain.run({ prompt: 'Summarise.' });
		if (result.tier !== 2)
			throw new Error(`outage task ${i} was not answered by the secondary: ${result.reasonText}`);
		engine.push(performance.now() - started);
	}
	figures.outage_engine_s = round(mean(engine) / 1000);

	progress(`outage, engine with the circuit breaker: ${TASKS} tasks`);
	const store = new SqliteStateStore(
		join(mkdtempSync(join(tmpdir(), 'bench-state-')), 'state.sqlite'),
	);
	const withBreaker = new FailoverChain({ tiers }, { breaker: new CircuitBreaker(store) });
	const breakerTimes: number[] = [];
	let openedAt = -1;
	for (let i = 0; i < TASKS; i++) {
		const started = performance.now();
		const result = await withBreaker.run({ prompt: 'Summarise.' });
		breakerTimes.push(performance.now() - started);
		if (openedAt < 0 && result.attempts[0].message === 'skipped: circuit open') openedAt = i;
	}
	await store.close();
	const afterOpen = breakerTimes.slice(Math.max(0, openedAt));
	figures.outage_breaker_s = round(mean(breakerTimes) / 1000);
	figures.outage_breaker_open_s = round(mean(afterOpen) / 1000);
	rows.push(['secondary alone, mean per task', `${figures.secondary_s} s`, `${TASKS} tasks`]);
	rows.push([
		'outage_naive_s (3 tries, 1 s * 1.5^n + jitter, then fallback)',
		`${figures.outage_naive_s} s`,
		`${TASKS} tasks`,
	]);
	rows.push([
		'outage_engine_s (default backoff, no breaker)',
		`${figures.outage_engine_s} s`,
		`${round(figures.outage_naive_s / figures.outage_engine_s, 1)}x faster than naive`,
	]);
	rows.push([
		'outage_breaker_s (breaker on, all tasks)',
		`${figures.outage_breaker_s} s`,
		`breaker opened at task ${openedAt + 1}`,
	]);
	rows.push([
		'outage_breaker_open_s (after it opened)',
		`${figures.outage_breaker_open_s} s`,
		`${round(figures.outage_breaker_open_s / figures.secondary_s, 2)}x the secondary's own; target <= 1.2x`,
	]);
}

async function heap(emulator: ProviderEmulator): Promise<void> {
	const gc = (globalThis as { gc?: () => void }).gc;
	if (!gc) throw new Error('run with --expose-gc (npm run bench does)');
	emulator.loadScenario({ rules: [{ provider: 'anthropic', fault: 'overloaded', rate: 0.2 }] });
	const chain = new FailoverChain({
		tiers: [
			{
				provider: 'anthropic',
				model: 'claude-haiku-4-5',
				apiKey: KEY,
				baseUrl: emulator.urls.anthropic,
			},
			{ provider: 'openai', model: 'gpt-4o-mini', apiKey: KEY, baseUrl: emulator.urls.openai },
		],
		backoff: { initialDelayMs: 1, maxDelayMs: 1 },
	});
	const batch = async () => {
		for (let i = 0; i < 1000; i++) {
			const result = await chain.run({ prompt: `Task ${i}: summarise.` });
			if (result.outcome !== 'answered') throw new Error(result.reasonText);
		}
		gc();
		await sleep(50);
		gc();
		return process.memoryUsage().heapUsed;
	};
	const baseline = await batch(); // warms the SDKs' keep-alive pools and JIT
	const after: number[] = [];
	for (let b = 0; b < 3; b++) after.push(await batch());
	const perBatch = (after[after.length - 1] - baseline) / after.length / 1024 / 1024;
	figures.heap_mb_per_1000_tasks = round(perBatch, 3);
	rows.push(['heap after warm-up batch', `${round(baseline / 1024 / 1024, 1)} MB`, '']);
	rows.push([
		'heap after each later batch of 1,000',
		after.map((h) => `${round(h / 1024 / 1024, 1)} MB`).join(', '),
		'',
	]);
	rows.push([
		'heap_mb_per_1000_tasks',
		`${figures.heap_mb_per_1000_tasks} MB`,
		'growth per batch; ~0 means nothing is held',
	]);
}

async function batch(emulator: ProviderEmulator): Promise<void> {
	emulator.loadScenario({ latencyMs: 100 });
	const items = Array.from({ length: 1000 }, (_, i) => ({ text: `Summarise document ${i}.` }));
	const credentials: Record<string, ICredentialDataDecryptedObject> = {
		resilientLlmOpenAiApi: { apiKey: KEY, baseUrl: emulator.urls.openai },
	};
	const run = fakeExecute({
		items,
		parameters: {
			prompt: (i: number) => items[i].text,
			chain: {
				tiers: [{ provider: 'openai', model: 'gpt-4o-mini', attempts: 3, timeoutSeconds: 30 }],
			},
			options: { concurrency: 16 },
		},
		credentials,
	});
	const started = performance.now();
	const outputs = await new ResilientLlm().execute.call(run.context);
	const wall = (performance.now() - started) / 1000;
	if (outputs[0].length !== 1000) throw new Error(`batch: ${outputs[0].length} of 1000 answered`);
	figures.batch_1000_wall_s = round(wall);
	figures.batch_ideal_s = round((1000 * 0.1) / 16);
	rows.push([
		'batch_1000_wall_s (node item loop, 100 ms, concurrency 16)',
		`${figures.batch_1000_wall_s} s`,
		`${round(wall / figures.batch_ideal_s, 2)}x ideal; target <= 1.25x`,
	]);
	rows.push(['batch_ideal_s (1000 * 0.1 / 16)', `${figures.batch_ideal_s} s`, '']);
}

/** Sends `total` webhook calls, `parallel` at a time; returns executions per second. */
async function fire(n8n: N8n, path: string, total: number, parallel: number): Promise<number> {
	let sent = 0;
	const started = performance.now();
	const client = async () => {
		while (sent < total) {
			sent++;
			const response = await n8n.webhook(
				path,
				{ text: 'Summarise: the parcel arrived late.' },
				30_000,
			);
			if (response.status !== 200)
				throw new Error(`webhook ${path}: ${response.status} ${JSON.stringify(response.body)}`);
		}
	};
	await Promise.all(Array.from({ length: parallel }, client));
	return total / ((performance.now() - started) / 1000);
}

/** Webhook -> Resilient LLM with one OpenAI tier at the emulator, as the n8n figures run it. */
async function createLlmWorkflow(
	n8n: N8n,
	emulator: ProviderEmulator,
	path: string,
	options: Record<string, unknown> = {},
	credentials: CredentialRefs = {},
): Promise<void> {
	const name = 'Emulator OpenAI';
	const id = await n8n.createCredential(name, 'resilientLlmOpenAiApi', {
		apiKey: KEY,
		baseUrl: emulator.urls.openai,
	});
	const llm = llmNode(
		{
			prompt: '={{ $json.body.text }}',
			chain: {
				tiers: [{ provider: 'openai', model: 'gpt-4o-mini', attempts: 3, timeoutSeconds: 30 }],
			},
			options,
		},
		{ resilientLlmOpenAiApi: { id, name }, ...credentials },
	);
	llm.position = [220, 0];
	await n8n.createWorkflow(workflow(path, [webhookNode(path), llm]));
}

async function n8nThroughput(emulator: ProviderEmulator): Promise<void> {
	emulator.loadScenario({});
	progress('n8n: starting a real n8n (installs it once if missing)');
	const n8n = await N8n.start({
		env: { EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'none', EXECUTIONS_DATA_SAVE_ON_PROGRESS: 'false' },
	});
	try {
		await createLlmWorkflow(n8n, emulator, 'bench-node');
		const http = {
			id: 'http-request',
			name: 'HTTP Request',
			type: 'n8n-nodes-base.httpRequest',
			typeVersion: 4.2,
			position: [220, 0] as [number, number],
			parameters: {
				method: 'POST',
				url: `${emulator.urls.openai}/chat/completions`,
				sendHeaders: true,
				headerParameters: { parameters: [{ name: 'Authorization', value: `Bearer ${KEY}` }] },
				sendBody: true,
				specifyBody: 'json',
				jsonBody:
					'={{ JSON.stringify({ model: "gpt-4o-mini", max_completion_tokens: 1024, messages: [{ role: "user", content: $json.body.text }] }) }}',
				options: {},
			},
		};
		await n8n.createWorkflow(workflow('bench http', [webhookNode('bench-http'), http]));
		progress('n8n: warm-up, then 4 interleaved rounds of 150 executions each way, 8 at a time');
		await fire(n8n, 'bench-node', 50, 8);
		await fire(n8n, 'bench-http', 50, 8);
		const node: number[] = [];
		const httpRates: number[] = [];
		for (let round = 0; round < 4; round++) {
			node.push(await fire(n8n, 'bench-node', 150, 8));
			httpRates.push(await fire(n8n, 'bench-http', 150, 8));
		}
		figures.n8n_exec_per_s_node = round(mean(node), 1);
		figures.n8n_exec_per_s_http = round(mean(httpRates), 1);
		rows.push([
			'n8n_exec_per_s_node (webhook -> Resilient LLM)',
			`${figures.n8n_exec_per_s_node}/s`,
			`rounds: ${node.map((r) => round(r, 0)).join(', ')}`,
		]);
		rows.push([
			'n8n_exec_per_s_http (webhook -> HTTP Request)',
			`${figures.n8n_exec_per_s_http}/s`,
			`rounds: ${httpRates.map((r) => round(r, 0)).join(', ')}`,
		]);
		rows.push([
			'node / http ratio',
			`${round(figures.n8n_exec_per_s_node / figures.n8n_exec_per_s_http, 2)}`,
			'target >= 0.95',
		]);
	} finally {
		await n8n.dispose();
	}
}

/**
 * The AI Agent's two-tool support task in a real n8n, Resilient Chat Model with the breaker
 * on: Anthropic then OpenAI. Two workflows differ only in the primary's model; the emulator
 * takes one of the two models down for good, so rounds of the two can interleave while that
 * model's circuit stays open (a long cool-down).
 */
async function agentOutage(emulator: ProviderEmulator): Promise<void> {
	const latencyMs = 100;
	const downModel = 'claude-sonnet-4-5';
	const upModel = 'claude-haiku-4-5';
	emulator.loadScenario({
		latencyMs,
		turns: [
			{ toolCalls: [{ name: TOOL_NAMES.lookup, arguments: { orderId: '42' } }] },
			{ toolCalls: [{ name: TOOL_NAMES.refund, arguments: { orderId: '42', reason: 'late' } }] },
			{ reply: 'Refund requested.' },
		],
		rules: [{ provider: 'anthropic', model: downModel, fault: 'overloaded' }],
	});
	progress('agent: starting a real n8n (installs it once if missing)');
	const n8n = await N8n.start({
		env: { EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'none', EXECUTIONS_DATA_SAVE_ON_PROGRESS: 'false' },
	});
	const orders = new OrderService();
	await orders.start();
	try {
		const credentials: CredentialRefs = {};
		for (const [type, provider] of [
			['resilientLlmAnthropicApi', 'anthropic'],
			['resilientLlmOpenAiApi', 'openai'],
		] as const) {
			const name = `Emulator ${provider}`;
			const id = await n8n.createCredential(name, type, {
				apiKey: KEY,
				baseUrl: emulator.urls[provider],
			});
			credentials[type] = { id, name };
		}
		const chatModel = (primary: string) => ({
			chain: {
				tiers: [
					{ provider: 'anthropic', model: primary, attempts: 3, timeoutSeconds: 30 },
					{ provider: 'openai', model: 'gpt-4o-mini', attempts: 3, timeoutSeconds: 30 },
				],
			},
			criticality: 'standard',
			options: {
				circuitBreaker: true,
				breakerThreshold: 3,
				breakerCooldownSeconds: 3600,
				breakerFailureRatePercent: 0,
				recordMetrics: false,
				deadlineSeconds: 60,
			},
		});
		for (const [path, primary] of [
			['bench-agent-up', upModel],
			['bench-agent-down', downModel],
		]) {
			await n8n.createWorkflow(
				agentWorkflow({
					name: path,
					path,
					chatModel: chatModel(primary),
					credentials,
					orderServiceUrl: orders.baseUrl,
				}),
			);
		}
		const conversation = async (path: string): Promise<number> => {
			const started = performance.now();
			const response = await n8n.webhook(path, { message: 'Order 42 came late, refund it.' });
			const body = JSON.stringify(response.body);
			if (response.status !== 200 || !body.includes('Refund requested.'))
				throw new Error(`agent ${path}: ${response.status} ${body}`);
			return (performance.now() - started) / 1000;
		};
		progress(
			"agent: warm-up (opens the down primary's circuit), then 4 interleaved rounds of 5 each",
		);
		for (let i = 0; i < 2; i++) {
			await conversation('bench-agent-up');
			await conversation('bench-agent-down');
		}
		const up: number[] = [];
		const down: number[] = [];
		for (let round = 0; round < 4; round++) {
			for (let i = 0; i < 5; i++) up.push(await conversation('bench-agent-up'));
			for (let i = 0; i < 5; i++) down.push(await conversation('bench-agent-down'));
		}
		figures.agent_up_s = round(median(up));
		figures.agent_down_breaker_open_s = round(median(down));
		figures.agent_outage_ratio = round(figures.agent_down_breaker_open_s / figures.agent_up_s, 2);
		rows.push([
			'agent_up_s (AI Agent, 2 tools, 3 model calls)',
			`${figures.agent_up_s} s`,
			`median of ${up.length}, ${latencyMs} ms per model call`,
		]);
		rows.push([
			'agent_down_breaker_open_s (primary 529, circuit open)',
			`${figures.agent_down_breaker_open_s} s`,
			`median of ${down.length}`,
		]);
		rows.push(['agent_outage_ratio', `${figures.agent_outage_ratio}`, 'target <= 1.3']);
	} finally {
		await orders.stop();
		await n8n.dispose();
	}
}

/**
 * Queue mode scales by adding workers: the same webhook load with two workers and with one.
 * Each worker runs n8n's default 10 jobs at once; at 2 s per provider call, one worker tops out
 * near 5 executions per second.
 */
async function queueThroughput(emulator: ProviderEmulator): Promise<void> {
	emulator.loadScenario({ latencyMs: 2_000 });
	progress('queue mode: PostgreSQL, Redis, a main and two workers');
	const cluster = await QueueMode.start({ workers: 2 });
	try {
		const n8n = cluster.main;
		await createLlmWorkflow(
			n8n,
			emulator,
			'bench-queue',
			{ stateStore: 'redis', circuitBreaker: true },
			{ resilientLlmRedisApi: await cluster.redisCredential() },
		);
		progress('queue mode: 200 executions, 40 in flight, with 2 workers, then 1, then 2 again');
		await fire(n8n, 'bench-queue', 40, 40);
		const two = [await fire(n8n, 'bench-queue', 200, 40)];
		await cluster.removeWorker();
		const one = await fire(n8n, 'bench-queue', 200, 40);
		await cluster.addWorker();
		two.push(await fire(n8n, 'bench-queue', 200, 40));
		figures.queue_mode_exec_per_s_2_workers = round(mean(two), 1);
		figures.queue_mode_exec_per_s_1_worker = round(one, 1);
		rows.push([
			'queue_mode_exec_per_s, 2 workers',
			`${figures.queue_mode_exec_per_s_2_workers}/s`,
			`runs: ${two.map((r) => round(r, 1)).join(', ')}`,
		]);
		rows.push([
			'queue_mode_exec_per_s, 1 worker',
			`${figures.queue_mode_exec_per_s_1_worker}/s`,
			'',
		]);
		rows.push([
			'2 workers / 1 worker',
			`${round(figures.queue_mode_exec_per_s_2_workers / figures.queue_mode_exec_per_s_1_worker, 2)}`,
			'2 s provider latency, 10 jobs per worker',
		]);
	} finally {
		await cluster.dispose();
	}
}

/** The emulator's primary failure in each scenario of the built-in comparison. */
const BUILTIN_SCENARIOS: Record<string, Rule[]> = {
	healthy: [],
	outage: [{ provider: 'anthropic', fault: 'overloaded' }],
	flapping: [{ provider: 'anthropic', fault: 'overloaded', every: 3 }],
	quota: [{ provider: 'anthropic', fault: 'quota_exhausted' }],
};
const PRIMARY = { provider: 'anthropic', model: 'claude-haiku-4-5' } as const;
const FALLBACK = { provider: 'openai', model: 'gpt-4o-mini' } as const;

/**
 * Webhook -> Split Items -> n8n's Basic LLM Chain with Enable Fallback Model: the stock
 * Anthropic Chat Model on its Model input, the stock OpenAI Chat Model on Fallback Model, each
 * with n8n's own credential whose base URL is the emulator. Options as n8n sets them, except
 * the OpenAI model's Responses API, which the emulator does not speak (n8n's chat
 * completions path, the one OpenAI-compatible servers use).
 */
function builtinWorkflow(
	path: string,
	credentials: { anthropic: { id: string; name: string }; openai: { id: string; name: string } },
): Record<string, unknown> {
	const chain: WorkflowNode = {
		id: randomUUID(),
		name: 'Basic LLM Chain',
		type: '@n8n/n8n-nodes-langchain.chainLlm',
		typeVersion: 1.9,
		position: [440, 0],
		parameters: { promptType: 'define', text: '={{ $json.text }}', needsFallback: true },
	};
	const anthropic: WorkflowNode = {
		id: randomUUID(),
		name: 'Anthropic Chat Model',
		type: '@n8n/n8n-nodes-langchain.lmChatAnthropic',
		typeVersion: 1.3,
		position: [380, 220],
		parameters: {
			model: { __rl: true, mode: 'id', value: PRIMARY.model },
			options: {},
		},
		credentials: { anthropicApi: credentials.anthropic },
	};
	const openai: WorkflowNode = {
		id: randomUUID(),
		name: 'OpenAI Chat Model',
		type: '@n8n/n8n-nodes-langchain.lmChatOpenAi',
		typeVersion: 1.3,
		position: [540, 220],
		parameters: {
			model: { __rl: true, mode: 'id', value: FALLBACK.model },
			responsesApiEnabled: false,
			options: {},
		},
		credentials: { openAiApi: credentials.openai },
	};
	const base = workflow(`builtin ${path}`, [webhookNode(path), splitItemsNode(), chain]);
	return {
		...base,
		nodes: [...(base.nodes as WorkflowNode[]), anthropic, openai],
		connections: {
			...(base.connections as Record<string, unknown>),
			[anthropic.name]: {
				ai_languageModel: [[{ node: chain.name, type: 'ai_languageModel', index: 0 }]],
			},
			[openai.name]: {
				ai_languageModel: [[{ node: chain.name, type: 'ai_languageModel', index: 1 }]],
			},
		},
	};
}

interface SideFigures {
	msPerItem: number;
	primaryShare: number;
	answered: number;
	primaryCalls: number;
	fallbackCalls: number;
	executionMs: number[];
}

/** 10 executions of 5 items, one after another; which provider answered each item. */
async function runSide(
	n8n: N8n,
	emulator: ProviderEmulator,
	path: string,
	rules: Rule[],
): Promise<SideFigures> {
	emulator.loadScenario({ rules });
	emulator.resetCounts();
	const executionMs: number[] = [];
	let answered = 0;
	let fromPrimary = 0;
	for (let execution = 0; execution < 10; execution++) {
		const items = Array.from({ length: 5 }, (_, i) => ({
			text: `Summarise ticket ${execution * 5 + i}: the parcel arrived late.`,
		}));
		const started = performance.now();
		const response = await n8n.webhook(path, { items }, 120_000);
		executionMs.push(performance.now() - started);
		if (response.status !== 200)
			throw new Error(`webhook ${path}: ${response.status} ${JSON.stringify(response.body)}`);
		const outputs = (Array.isArray(response.body) ? response.body : [response.body]) as Array<{
			text?: unknown;
		}>;
		for (const output of outputs) {
			if (typeof output.text !== 'string') continue;
			answered++;
			if (output.text.includes(`${PRIMARY.provider}/`)) fromPrimary++;
		}
	}
	return {
		msPerItem: median(executionMs.slice(2)) / 5,
		primaryShare: fromPrimary / 50,
		answered,
		primaryCalls: emulator.count(PRIMARY.provider, PRIMARY.model),
		fallbackCalls: emulator.count(FALLBACK.provider, FALLBACK.model),
		executionMs,
	};
}

/**
 * n8n's own answer to a failing model, its Basic LLM Chain with Enable Fallback Model, against
 * Resilient LLM with default options, in one n8n and against the same emulator scenario. Each
 * scenario gets its own API key, so its circuits start closed.
 */
async function builtinComparison(emulator: ProviderEmulator): Promise<void> {
	progress('builtin: starting a real n8n (installs it once if missing)');
	const n8n = await N8n.start({
		env: { EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'none', EXECUTIONS_DATA_SAVE_ON_PROGRESS: 'false' },
	});
	try {
		for (const [scenario, rules] of Object.entries(BUILTIN_SCENARIOS)) {
			const key = `${KEY}-${scenario}`;
			const stock = {
				anthropic: {
					name: `Anthropic (${scenario})`,
					id: await n8n.createCredential(`Anthropic (${scenario})`, 'anthropicApi', {
						apiKey: key,
						url: emulator.urls.anthropic,
					}),
				},
				openai: {
					name: `OpenAI (${scenario})`,
					id: await n8n.createCredential(`OpenAI (${scenario})`, 'openAiApi', {
						apiKey: key,
						url: emulator.urls.openai,
					}),
				},
			};
			const ours = {
				resilientLlmAnthropicApi: {
					name: `Resilient Anthropic (${scenario})`,
					id: await n8n.createCredential(
						`Resilient Anthropic (${scenario})`,
						'resilientLlmAnthropicApi',
						{ apiKey: key, baseUrl: emulator.urls.anthropic },
					),
				},
				resilientLlmOpenAiApi: {
					name: `Resilient OpenAI (${scenario})`,
					id: await n8n.createCredential(
						`Resilient OpenAI (${scenario})`,
						'resilientLlmOpenAiApi',
						{
							apiKey: key,
							baseUrl: emulator.urls.openai,
						},
					),
				},
			};
			await n8n.createWorkflow(builtinWorkflow(`builtin-${scenario}`, stock));
			await n8n.createWorkflow(
				llmWorkflow(
					`ours ${scenario}`,
					`ours-${scenario}`,
					{
						prompt: '={{ $json.text }}',
						chain: {
							tiers: [
								{ provider: PRIMARY.provider, model: PRIMARY.model },
								{ provider: FALLBACK.provider, model: FALLBACK.model },
							],
						},
						// Default options: what an operator who keeps the defaults gets.
						options: {},
					},
					ours,
				),
			);
			progress(`builtin: ${scenario}, n8n's chain with fallback, then Resilient LLM`);
			const sides = {
				builtin: await runSide(n8n, emulator, `builtin-${scenario}`, rules),
				ours: await runSide(n8n, emulator, `ours-${scenario}`, rules),
			};
			for (const [side, f] of Object.entries(sides)) {
				figures[`${side}_${scenario}_ms_per_item`] = round(f.msPerItem, 2);
				figures[`${side}_${scenario}_primary_share`] = round(f.primaryShare, 2);
				figures[`${side}_${scenario}_primary_calls`] = f.primaryCalls;
				figures[`${side}_${scenario}_fallback_calls`] = f.fallbackCalls;
				rows.push([
					`${side}_${scenario} (${side === 'ours' ? 'Resilient LLM, defaults' : "n8n's chain + fallback"})`,
					`${round(f.msPerItem, 2)} ms/item, ${Math.round(f.primaryShare * 100)} % from the primary`,
					`${f.answered}/50 answered; calls: ${f.primaryCalls} primary, ${f.fallbackCalls} fallback; executions ${f.executionMs.map((ms) => Math.round(ms)).join(', ')} ms`,
				]);
			}
		}
	} finally {
		await n8n.dispose();
	}
}

/**
 * Redis killed in the middle of a batch, as the fault-injection tests do it, measured: how
 * long after Redis is back the node uses it again, and whether any item or answer went missing.
 */
async function chaos(emulator: ProviderEmulator): Promise<void> {
	const ITEMS = 200;
	emulator.loadScenario({
		apiKeys: KEYS,
		latencyMs: 20,
		rules: [{ provider: 'anthropic', fault: 'drop_mid_body', rate: 0.2 }],
	});
	progress('chaos: a real n8n with the Redis store');
	let redis = await RedisServer.start();
	const n8n = await N8n.start();
	let lost = 0;
	const recoveries: number[] = [];
	try {
		const credentials = await emulatorCredentials(n8n, emulator);
		const redisId = await n8n.createCredential('Chaos Redis', 'resilientLlmRedisApi', {
			host: '127.0.0.1',
			port: redis.port,
			database: 0,
			ssl: false,
		});
		const workflowFor = async (mode: 'fail' | 'proceed') => {
			const path = `chaos-${mode}`;
			const id = await n8n.createWorkflow(
				llmWorkflow(
					path,
					path,
					{
						prompt: '={{ $json.text }}',
						chain: {
							tiers: [
								{ provider: 'anthropic', model: MODELS.anthropic, attempts: 2, timeoutSeconds: 30 },
								{ provider: 'openai', model: MODELS.openai, attempts: 2, timeoutSeconds: 30 },
							],
						},
						options: storeFaultOptions('redis', mode, { initialBackoffMs: 20 }),
					},
					{ ...credentials, resilientLlmRedisApi: { id: redisId, name: 'Chaos Redis' } },
					{ onError: 'continueErrorOutput' },
				),
			);
			return { id, path };
		};
		/** Runs items through a workflow; adds what went missing to `lost`; true when every item used Redis. */
		const send = async (
			target: { id: string; path: string },
			tag: string,
			count: number,
			during?: () => Promise<void>,
		): Promise<boolean> => {
			const items = Array.from({ length: count }, (_, id) => ({
				id,
				key: `${tag}-${id}`,
				text: `Ticket ${tag}-${id}`,
			}));
			const answersBefore = emulator.answers();
			const response = n8n.webhook(target.path, { items }, 300_000);
			await during?.();
			if ((await response).status !== 200) throw new Error(`chaos: webhook ${target.path} failed`);
			const outputs = outputsOf(await n8n.latestExecution(target.id));
			lost += itemsLost(
				outputs,
				items.map((item) => item.id),
			);
			const delivered = outputs.answered.filter(
				(item) => !(item.resilience as { cached?: boolean }).cached,
			).length;
			lost += Math.max(0, emulator.answers() - answersBefore - delivered);
			return (
				outputs.errors.length === 0 &&
				outputs.answered.every((item) => !(item.resilience as { degraded?: string }).degraded)
			);
		};
		for (const mode of ['fail', 'proceed'] as const) {
			const target = await workflowFor(mode);
			const callsAtStart = emulator.stats().total;
			progress(`chaos (${mode}): ${ITEMS} items, Redis killed after 50 calls, back 5 s later`);
			let back = 0;
			await send(target, `${mode}-batch`, ITEMS, async () => {
				while (emulator.stats().total - callsAtStart < 50) await sleep(5);
				await redis.stop('SIGKILL');
				await sleep(5_000);
				redis = await RedisServer.start(redis.port);
				back = performance.now();
			});
			if (!back) throw new Error('chaos: Redis was not restarted');
			// Executions of one item each, one after another, until one uses Redis again.
			let recovered = false;
			for (let n = 0; n < 200 && !recovered; n++)
				recovered = await send(target, `${mode}-probe-${n}`, 1);
			if (!recovered) throw new Error(`chaos (${mode}): no item used Redis again`);
			recoveries.push((performance.now() - back) / 1000);
		}
	} finally {
		await n8n.dispose();
		await redis.stop();
	}
	figures.redis_blip_recovery_s = round(Math.max(...recoveries));
	figures.chaos_items_lost = lost;
	rows.push([
		'redis_blip_recovery_s',
		`${figures.redis_blip_recovery_s} s`,
		`fail: ${round(recoveries[0])} s, proceed: ${round(recoveries[1])} s; target <= 2 s`,
	]);
	rows.push([
		'chaos_items_lost',
		`${lost}`,
		'2 x 200 items, Redis killed mid-batch, 20 % of primary calls cut mid-body; target 0',
	]);
}

async function idempotentHits(): Promise<void> {
	const measure = async (store: StateStore): Promise<number> => {
		const stored = {
			outcome: 'answered',
			text: 'A stored answer.',
			resilience: { tier: 1, attempts: [{ tier: 1, status: 'ok' }] },
		};
		await runOnce(
			store,
			'bench-key',
			'bench',
			{ leaseMs: 60_000, ttlMs: 3_600_000 },
			async () => stored,
			() => true,
		);
		const times: number[] = [];
		for (let i = 0; i < 1200; i++) {
			const started = performance.now();
			const { cached } = await runOnce(
				store,
				'bench-key',
				`reader-${i}`,
				{ leaseMs: 60_000, ttlMs: 3_600_000 },
				async () => stored,
				() => true,
			);
			if (i >= 200) times.push(performance.now() - started);
			if (!cached) throw new Error('expected a stored result');
		}
		return median(times);
	};
	const embedded = new SqliteStateStore(
		join(mkdtempSync(join(tmpdir(), 'bench-state-')), 'state.sqlite'),
	);
	figures.idempotent_hit_ms_median_embedded = round(await measure(embedded));
	await embedded.close();
	const server = await RedisServer.start();
	try {
		const redis = new RedisStateStore({ host: '127.0.0.1', port: server.port });
		await redis.connect();
		figures.idempotent_hit_ms_median_redis = round(await measure(redis));
		await redis.close();
	} finally {
		await server.stop();
	}
	rows.push([
		'idempotent_hit_ms_median, embedded',
		`${figures.idempotent_hit_ms_median_embedded} ms`,
		'1000 lookups; target <= 2 ms',
	]);
	rows.push([
		'idempotent_hit_ms_median, Redis on loopback',
		`${figures.idempotent_hit_ms_median_redis} ms`,
		'1000 lookups; target <= 3 ms',
	]);
}

/**
 * A first batch at real providers' speed in a real n8n, on the node's defaults: 8 items at
 * Concurrency 4, each answer taking 2 s or 5 s. Run on new circuits (new models), then again on
 * the same, now warm, circuits.
 */
async function slowFirstBatch(emulator: ProviderEmulator): Promise<void> {
	emulator.loadScenario({
		latencyMs: 2_000,
		rules: [{ provider: 'anthropic', every: 2, latencyMs: 3_000 }],
	});
	progress('slow: starting a real n8n; batches of 8 items with answers of 2 s and 5 s');
	const n8n = await N8n.start();
	try {
		const credentials = await emulatorCredentials(n8n, emulator);
		let needsHuman = 0;
		const ratios: number[] = [];
		for (const tiers of [1, 2]) {
			const path = `bench-slow-${tiers}`;
			const chain = {
				tiers: [
					{
						provider: 'anthropic',
						model: `claude-bench-slow-${tiers}`,
						attempts: 3,
						timeoutSeconds: 60,
					},
					{ provider: 'openai', model: `gpt-bench-slow-${tiers}`, attempts: 3, timeoutSeconds: 60 },
				].slice(0, tiers),
			};
			const id = await n8n.createWorkflow(
				llmWorkflow(
					`bench slow ${tiers}`,
					path,
					{ prompt: '={{ $json.text }}', chain, options: {} },
					credentials,
				),
			);
			const items = Array.from({ length: 8 }, (_, i) => ({ text: `Slow item ${i}` }));
			const times: number[] = [];
			for (const run of ['new circuits', 'warm circuits']) {
				const started = performance.now();
				const response = await n8n.webhook(path, { items }, 120_000);
				times.push(performance.now() - started);
				if (response.status !== 200)
					throw new Error(`webhook ${path}: ${response.status} ${JSON.stringify(response.body)}`);
				const outputs = outputsOf(await n8n.latestExecution(id));
				needsHuman += outputs.needsHuman.length;
				progress(
					`slow: ${tiers} tier(s), ${run}: ${round(times[times.length - 1] / 1000, 2)} s, ${outputs.answered.length} answered, ${outputs.needsHuman.length} on Needs Human`,
				);
			}
			ratios.push(times[0] / times[1]);
		}
		figures.first_batch_slow_needs_human = needsHuman;
		figures.first_batch_slow_ratio = round(Math.max(...ratios), 2);
		rows.push([
			'first_batch_slow_needs_human',
			`${needsHuman}`,
			'32 items over 4 batches; target 0',
		]);
		rows.push([
			'first_batch_slow_ratio (new circuits / warm)',
			`${figures.first_batch_slow_ratio}`,
			`1 tier ${round(ratios[0], 2)}, 2 tiers ${round(ratios[1], 2)}; target <= 1.1`,
		]);
	} finally {
		await n8n.dispose();
	}
}

/**
 * A Redis 100 ms away (each way) under 20 tasks at once, with the breaker and idempotency on
 * it: store operations run side by side and inside the task's deadline, so no task overruns.
 */
async function redisLatency(emulator: ProviderEmulator): Promise<void> {
	emulator.loadScenario({ latencyMs: 1_000 });
	progress('redis: 20 tasks at once on a Redis 100 ms away, 3 s deadline, 1 s answers');
	const server = await RedisServer.start();
	const proxy = await LatencyProxy.start(server.port, 100);
	const store = new RedisStateStore({ host: '127.0.0.1', port: proxy.port });
	try {
		await store.connect();
		const deadlineMs = 3_000;
		const chain = new FailoverChain(
			{
				tiers: [
					{
						provider: 'anthropic',
						model: 'claude-bench-redis',
						apiKey: KEY,
						baseUrl: emulator.urls.anthropic,
						timeoutMs: 30_000,
					},
				],
				deadlineMs,
			},
			{ breaker: new CircuitBreaker(store) },
		);
		const results = await Promise.all(
			Array.from({ length: 20 }, (_, i) =>
				runOnce(
					store,
					`bench-redis-${randomUUID()}`,
					`owner-${i}`,
					{ leaseMs: deadlineMs + 5_000, ttlMs: 60_000 },
					() => chain.run({ prompt: `task ${i}` }),
					(r) => r.outcome === 'answered',
				),
			),
		);
		const answered = results.filter((r) => r.result.outcome === 'answered').length;
		const worst = Math.max(...results.map((r) => r.result.latencyMs));
		figures.redis_latency_deadline_overrun_ms = Math.max(0, worst - deadlineMs);
		rows.push([
			'redis_latency_deadline_overrun_ms',
			`${figures.redis_latency_deadline_overrun_ms} ms`,
			`slowest task ${worst} ms of a ${deadlineMs} ms deadline; ${answered} of 20 answered; target 0`,
		]);
	} finally {
		await store.close();
		await proxy.stop();
		await server.stop();
	}
}

async function main(): Promise<void> {
	// `npm run bench -- --only batch,n8n` runs some sections; all by default.
	const onlyArg = process.argv.indexOf('--only');
	const only = onlyArg >= 0 ? new Set((process.argv[onlyArg + 1] ?? '').split(',')) : undefined;
	const want = (name: string) => !only || only.has(name);
	const emulator = new ProviderEmulator();
	await emulator.start();
	try {
		if (want('overhead')) {
			progress('overhead: 3000 interleaved calls each way');
			await overhead(emulator);
		}
		if (want('heap')) {
			progress('heap: 4 batches of 1,000 tasks');
			await heap(emulator);
		}
		if (want('outage')) await outage(emulator);
		if (want('batch')) {
			progress('batch: 1,000 items through the node at 100 ms latency');
			await batch(emulator);
		}
		if (want('idempotency')) {
			progress('idempotency: 1,000 stored-result lookups per store');
			await idempotentHits();
		}
		if (want('n8n')) await n8nThroughput(emulator);
		if (want('queue')) await queueThroughput(emulator);
		if (want('builtin')) await builtinComparison(emulator);
		if (want('chaos')) await chaos(emulator);
		if (want('agent')) await agentOutage(emulator);
		if (want('slow')) await slowFirstBatch(emulator);
		if (want('redis')) await redisLatency(emulator);
	} finally {
		await emulator.stop();
	}
	const width = Math.max(...rows.map((r) => r[0].length));
	process.stdout.write(`${'figure'.padEnd(width)}  value\n`);
	for (const [name, value, note] of rows)
		process.stdout.write(`${name.padEnd(width)}  ${value}${note ? `   (${note})` : ''}\n`);
	process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main().catch((error: unknown) => {
	process.stderr.write(
		`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
	);
	process.exit(1);
});
