/**
 * Pacing by rate limits in a real n8n, the emulator enforcing a per-key limit: Resilient LLM
 * reads the limit from each answer's headers and holds calls rather than send them into a
 * 429, across concurrent executions; without headers (Gemini) it halves its calls in flight
 * on a 429 and holds for the retry hint. The same batch with Pace by Rate Limits off gets the
 * 429s, so each count here shows the pacing's effect. Counts only, never wall-clock bounds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Limit } from '../../lib/emulator/limits';
import type { Scenario } from '../../lib/emulator/scenario';
import type { Execution } from '../harness/n8n';
import { KEYS } from '../support/emulator';
import { useN8n } from '../support/n8nFixture';
import { llmWorkflow } from '../support/workflows';

const ctx = useN8n();

type Item = { json: Record<string, unknown> };

function outputs(execution: Execution): { answered: Item[]; needsHuman: Item[] } {
	const main = execution.data?.resultData.runData['Resilient LLM']?.[0]?.data?.main ?? [];
	return { answered: (main[0] ?? []) as Item[], needsHuman: (main[1] ?? []) as Item[] };
}

let workflows = 0;
/** A batch workflow on one model: each test's own model, so each has its own circuit. */
async function batchWorkflow(
	provider: 'openai' | 'anthropic' | 'gemini',
	model: string,
	paced: boolean,
): Promise<{ id: string; path: string }> {
	const path = `limits-${++workflows}`;
	const parameters = {
		prompt: '={{ $json.text }}',
		chain: { tiers: [{ provider, model, attempts: 8, timeoutSeconds: 30 }] },
		options: {
			concurrency: 16,
			deadlineSeconds: 120,
			paceByRateLimits: paced,
			maxRetryWaitSeconds: 10,
		},
	};
	const id = await ctx.n8n.createWorkflow(
		llmWorkflow(`limits ${workflows}`, path, parameters, ctx.credentials),
	);
	return { id, path };
}

function items(count: number, tag: string): Array<{ text: string }> {
	return Array.from({ length: count }, (_, i) => ({ text: `Summarise note ${tag}-${i}.` }));
}

/** Runs one batch through a workflow and returns its outputs and the 429s the limit sent. */
async function runBatch(
	scenario: Scenario,
	workflow: { id: string; path: string },
	count: number,
	tag: string,
): Promise<{ answered: number; needsHuman: number; limited: number; execution: Execution }> {
	ctx.emulator.loadScenario({ apiKeys: KEYS, ...scenario });
	ctx.emulator.resetCounts();
	const response = await ctx.n8n.webhook(workflow.path, { items: items(count, tag) }, 240_000);
	assert.equal(response.status, 200, JSON.stringify(response.body));
	const execution = await ctx.n8n.latestExecution(workflow.id);
	const { answered, needsHuman } = outputs(execution);
	return {
		answered: answered.length,
		needsHuman: needsHuman.length,
		limited: ctx.emulator.stats().limited,
		execution,
	};
}

/** A per-key limit on the whole provider: both sides of a test share it, each on its own circuit. */
const limitOn = (provider: 'openai' | 'anthropic' | 'gemini', rpm: number): Limit[] => [
	{ provider, rpm },
];

describe('pacing by rate limits in n8n', () => {
	it('OpenAI headers: 60 items at Concurrency 16 under a 600 RPM limit get almost no 429s; unpaced, many', async () => {
		const limits = limitOn('openai', 600);
		const scenario: Scenario = { latencyMs: 100, limits };
		const unpaced = await runBatch(
			scenario,
			await batchWorkflow('openai', 'gpt-paced-1-unpaced', false),
			60,
			'u',
		);
		const paced = await runBatch(
			scenario,
			await batchWorkflow('openai', 'gpt-paced-1', true),
			60,
			'p',
		);
		assert.equal(unpaced.answered + unpaced.needsHuman, 60);
		assert.equal(paced.answered, 60, 'every paced item answered');
		assert.ok(unpaced.limited >= 6, `unpaced got ${unpaced.limited} 429s`);
		assert.ok(paced.limited <= 2, `paced got ${paced.limited} 429s (unpaced ${unpaced.limited})`);
		const held = paced.execution.data?.resultData.runData[
			'Resilient LLM'
		]?.[0]?.data?.main[0]?.some((item) =>
			((item.json.resilience as { tiers?: Array<{ pacedMs?: number }> }).tiers ?? []).some(
				(tier) => (tier.pacedMs ?? 0) > 0,
			),
		);
		assert.ok(held, 'some items show the time they were held for the limit');
	});

	it('Anthropic headers, two executions at once on one key: the pace is shared', async () => {
		const limits = limitOn('anthropic', 600);
		/** Two executions of 30 items at once; the answers and the 429s they got. */
		const twoAtOnce = async (model: string, paced: boolean) => {
			ctx.emulator.loadScenario({ apiKeys: KEYS, latencyMs: 100, limits });
			ctx.emulator.resetCounts();
			const workflow = await batchWorkflow('anthropic', model, paced);
			const responses = await Promise.all([
				ctx.n8n.webhook(workflow.path, { items: items(30, `${model}-a`) }, 240_000),
				ctx.n8n.webhook(workflow.path, { items: items(30, `${model}-b`) }, 240_000),
			]);
			assert.deepEqual(
				responses.map((r) => r.status),
				[200, 200],
			);
			const outputs = responses.flatMap((r) => (Array.isArray(r.body) ? r.body : [r.body]));
			const answered = outputs.filter((o) => typeof (o as { text?: unknown }).text === 'string');
			return { answered: answered.length, limited: ctx.emulator.stats().limited };
		};
		const unpaced = await twoAtOnce('claude-paced-2-unpaced', false);
		const paced = await twoAtOnce('claude-paced-2', true);
		assert.equal(paced.answered, 60);
		// 32 calls at once against room for 10: unpaced, 429s by the score, or a breaker that
		// opens on them and items that give up.
		assert.ok(
			unpaced.limited >= 20 || unpaced.answered < 60,
			`unpaced: ${unpaced.limited} 429s, ${unpaced.answered} answered`,
		);
		assert.ok(paced.limited <= 3, `paced: ${paced.limited} 429s`);
	});

	it('Gemini, no headers: paced, its 429s halve the calls in flight and open no breaker, and no item is lost', async () => {
		const limits = limitOn('gemini', 300);
		const scenario: Scenario = { latencyMs: 100, limits };
		const unpaced = await runBatch(
			scenario,
			await batchWorkflow('gemini', 'gemini-paced-3-unpaced', false),
			40,
			'u',
		);
		const paced = await runBatch(
			scenario,
			await batchWorkflow('gemini', 'gemini-paced-3', true),
			40,
			'p',
		);
		// Unpaced, the storm of 429s opens the breaker and items give up; paced, none does.
		assert.ok(unpaced.needsHuman > 0, `unpaced: ${unpaced.needsHuman} items to Needs Human`);
		assert.equal(paced.answered, 40);
		assert.equal(paced.needsHuman, 0);
	});

	it('at real models’ pace (answers taking seconds), a warm circuit: paced items wait their turn instead of 429s', async () => {
		const limits = limitOn('openai', 120);
		const scenario: Scenario = { profile: 'realistic', limits };
		const unpaced = await runBatch(
			scenario,
			await batchWorkflow('openai', 'gpt-paced-4-unpaced', false),
			24,
			'u',
		);
		const workflow = await batchWorkflow('openai', 'gpt-paced-4', true);
		// The first batch teaches the circuit its limit; the second shows the pace.
		const warmUp = await runBatch(scenario, workflow, 8, 'w');
		assert.equal(warmUp.answered, 8);
		const paced = await runBatch(scenario, workflow, 24, 'p');
		assert.equal(paced.answered, 24);
		assert.ok(
			unpaced.needsHuman > 0 || unpaced.limited >= 8,
			`unpaced: ${unpaced.limited} 429s, ${unpaced.needsHuman} to Needs Human`,
		);
		assert.ok(paced.limited <= 2, `paced got ${paced.limited} 429s`);
	});

	it('a key pool in one credential: key 1 out of quota, key 2 answers every item; paced, a batch shares both keys', async () => {
		const keyA = ['pool', 'key', 'first'].join('-');
		const keyB = ['pool', 'key', 'second'].join('-');
		const name = 'OpenAI key pool';
		const credential = {
			name,
			id: await ctx.n8n.createCredential(name, 'resilientLlmOpenAiApi', {
				apiKey: keyA,
				additionalApiKeys: `${keyB}\n`,
				baseUrl: ctx.emulator.urls.openai,
			}),
		};
		const poolWorkflow = async (path: string, model: string) => {
			const parameters = {
				prompt: '={{ $json.text }}',
				chain: { tiers: [{ provider: 'openai', model, attempts: 3, timeoutSeconds: 30 }] },
				options: { concurrency: 16, deadlineSeconds: 120 },
			};
			const id = await ctx.n8n.createWorkflow(
				llmWorkflow(`pool ${path}`, path, parameters, { resilientLlmOpenAiApi: credential }),
			);
			return { id, path };
		};
		const keyOf = (item: Item) =>
			(item.json.resilience as { attempts: Array<{ key?: number; status: string }> }).attempts
				.filter((a) => a.status === 'ok')
				.map((a) => a.key);

		// Key 1's quota is gone: its first call fails, and its circuit keeps it out after that.
		const quota = await runBatch(
			{ apiKeys: {}, rules: [{ provider: 'openai', key: keyA, fault: 'quota_exhausted' }] },
			await poolWorkflow('pool-quota', 'gpt-pool-1'),
			12,
			'q',
		);
		assert.equal(quota.answered, 12);
		const items = outputs(quota.execution).answered;
		assert.deepEqual(items.map(keyOf), Array(12).fill([2]));
		// Key 1's circuit opened on its first failure: the other items never called it.
		const keyOneCalls = items
			.flatMap(
				(item) =>
					(item.json.resilience as { attempts: Array<{ key?: number; status: string }> }).attempts,
			)
			.filter((a) => a.key === 1 && a.status === 'failed');
		assert.ok(keyOneCalls.length <= 2, `${keyOneCalls.length} calls with key 1`);
		const text = JSON.stringify(quota.execution.data);
		assert.ok(!text.includes(keyA) && !text.includes(keyB), 'no key in the execution');

		// Each key allowed 600 a minute: the batch is shared between them, with almost no 429s.
		const shared = await runBatch(
			{ apiKeys: {}, latencyMs: 100, limits: [{ provider: 'openai', rpm: 600 }] },
			await poolWorkflow('pool-limits', 'gpt-pool-2'),
			60,
			's',
		);
		assert.equal(shared.answered, 60);
		const byKey = outputs(shared.execution).answered.map((item) => keyOf(item)[0]);
		const first = byKey.filter((k) => k === 1).length;
		assert.ok(first >= 15 && first <= 45, `key 1 answered ${first} of 60, key 2 the rest`);
		assert.ok(shared.limited <= 3, `${shared.limited} 429s`);
	});
});
