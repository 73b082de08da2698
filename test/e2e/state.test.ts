/** Idempotency through the embedded state store inside a real n8n, counted at the emulator. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Execution } from '../harness/n8n';
import { KEYS, MODELS } from '../support/emulator';
import { useN8n } from '../support/n8nFixture';
import { llmWorkflow } from '../support/workflows';

const ctx = useN8n();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Item = { json: Record<string, unknown> };

function answered(execution: Execution): Item[] {
	return (execution.data?.resultData.runData['Resilient LLM']?.[0]?.data?.main[0] ?? []) as Item[];
}

let count = 0;
async function idempotentWorkflow(deadlineSeconds = 30): Promise<{ id: string; path: string }> {
	const path = `state-${++count}`;
	const parameters = {
		prompt: '={{ $json.text }}',
		chain: {
			tiers: [{ provider: 'anthropic', model: MODELS.anthropic, attempts: 1, timeoutSeconds: 30 }],
		},
		options: { idempotency: 'custom', idempotencyKey: '={{ $json.ticket }}', deadlineSeconds },
	};
	const id = await ctx.n8n.createWorkflow(
		llmWorkflow(`state ${count}`, path, parameters, ctx.credentials),
	);
	return { id, path };
}

describe('idempotency in n8n (embedded store)', () => {
	it('a re-run of an execution with the same inputs makes no provider call', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS });
		ctx.emulator.resetCounts();
		const { id, path } = await idempotentWorkflow();
		await ctx.n8n.webhook(path, { items: [{ text: 'Refund T-1?', ticket: 'T-1' }] });
		const first = answered(await ctx.n8n.latestExecution(id));
		assert.equal(ctx.emulator.count('anthropic'), 1);
		await ctx.n8n.webhook(path, { items: [{ text: 'Refund T-1?', ticket: 'T-1' }] });
		const second = answered(await ctx.n8n.latestExecution(id));
		assert.equal(ctx.emulator.count('anthropic'), 1, 'the re-run called no provider');
		assert.equal((second[0].json.resilience as { cached?: boolean }).cached, true);
		assert.equal(second[0].json.text, first[0].json.text);
	});

	it('20 concurrent executions with the same key make exactly one provider call', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS, latencyMs: 300 });
		ctx.emulator.resetCounts();
		const { path } = await idempotentWorkflow();
		const responses = await Promise.all(
			Array.from({ length: 20 }, () =>
				ctx.n8n.webhook(path, { items: [{ text: 'Decide refund R-20', ticket: 'R-20' }] }),
			),
		);
		assert.deepEqual(
			responses.map((r) => r.status),
			Array(20).fill(200),
		);
		assert.equal(ctx.emulator.count('anthropic'), 1);
	});

	it('after n8n is killed during a call, a re-run makes exactly one more call and stores one result', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS, rules: [{ provider: 'anthropic', fault: 'hang' }] });
		ctx.emulator.resetCounts();
		const { id, path } = await idempotentWorkflow(5);
		void ctx.n8n
			.webhook(path, { items: [{ text: 'Decide refund R-9', ticket: 'R-9' }] }, 60_000)
			.catch(() => undefined);
		for (let i = 0; i < 100 && ctx.emulator.count('anthropic') === 0; i++) await sleep(100);
		assert.equal(ctx.emulator.count('anthropic'), 1, 'the call is in flight');
		await ctx.n8n.restart('SIGKILL');
		ctx.emulator.loadScenario({ apiKeys: KEYS });
		// The dead run's lease (deadline + 5 s) must run out before the re-run takes over.
		const rerun = await ctx.n8n.webhook(
			path,
			{ items: [{ text: 'Decide refund R-9', ticket: 'R-9' }] },
			60_000,
		);
		assert.equal(rerun.status, 200);
		assert.equal(
			answered(await ctx.n8n.latestExecution(id))[0].json.text,
			`Emulated answer from anthropic/${MODELS.anthropic}.`,
		);
		assert.equal(ctx.emulator.count('anthropic'), 2, 'the killed call, then exactly one more');
		const before = ctx.emulator.count('anthropic');
		await ctx.n8n.webhook(path, { items: [{ text: 'Decide refund R-9', ticket: 'R-9' }] });
		assert.equal(
			ctx.emulator.count('anthropic'),
			before,
			'one stored result serves every later run',
		);
		assert.equal(
			(answered(await ctx.n8n.latestExecution(id))[0].json.resilience as { cached?: boolean })
				.cached,
			true,
		);
	});
});
