/**
 * Redis killed (SIGKILL) in the middle of a 200-item batch in a real n8n, and started again
 * 5 s later on the same port. With "If State Store Is Unavailable" set to fail, the items in
 * the gap go to the error output; set to proceed, they are answered without shared state.
 * Either way every item ends on exactly one output, every answer the provider sent is
 * delivered, no item calls the provider more than once, and once Redis is back the node uses
 * it again with no n8n restart.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';

import { storeFaultOptions } from '../support/storeFaultOptions';
import { RedisServer } from '../harness/redis';
import { KEYS, MODELS } from '../support/emulator';
import { useN8n } from '../support/n8nFixture';
import { until } from '../support/until';
import { llmWorkflow } from '../support/workflows';
import type { CredentialRefs } from '../support/workflows';
import { assertEachOnExactlyOneOutput, outputsOf } from '../support/executionOutputs';

const ctx = useN8n();
let redis: RedisServer | undefined;
let redisCredential: CredentialRefs;

const ITEMS = 200;
/** Provider latency: 200 items at 4 at a time take several seconds, so the kill lands mid-batch. */
const LATENCY_MS = 100;
/** Calls made before Redis is killed. */
const KILL_AFTER_CALLS = 40;
const RESTART_AFTER_MS = 5_000;

/** Redis and its credential in n8n, made by the first test that needs them (after n8n is up). */
async function setUp(): Promise<void> {
	if (redis) return;
	redis = await RedisServer.start();
	const id = await ctx.n8n.createCredential('Fault Redis', 'resilientLlmRedisApi', {
		host: '127.0.0.1',
		port: redis.port,
		database: 0,
		ssl: false,
		prefix: 'faults:',
	});
	redisCredential = { resilientLlmRedisApi: { id, name: 'Fault Redis' } };
}
after(async () => {
	await redis?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function batchWorkflow(mode: 'fail' | 'proceed'): Promise<{ id: string; path: string }> {
	const path = `redis-kill-${mode}`;
	const parameters = {
		prompt: '={{ $json.text }}',
		chain: {
			tiers: [{ provider: 'anthropic', model: MODELS.anthropic, attempts: 1, timeoutSeconds: 30 }],
		},
		options: storeFaultOptions('redis', mode, {
			idempotencyTtlHours: 1,
			deadlineSeconds: 60,
			initialBackoffMs: 50,
		}),
	};
	const id = await ctx.n8n.createWorkflow(
		llmWorkflow(
			`Redis killed (${mode})`,
			path,
			parameters,
			{ ...ctx.credentials, ...redisCredential },
			{
				onError: 'continueErrorOutput',
			},
		),
	);
	return { id, path };
}

function items(tag: string, count: number) {
	return Array.from({ length: count }, (_, id) => ({
		id,
		key: `${tag}-${id}`,
		text: `Ticket ${id}`,
	}));
}

for (const mode of ['fail', 'proceed'] as const) {
	describe(`Redis killed mid-batch, If State Store Is Unavailable = ${mode}`, () => {
		it(`every one of ${ITEMS} items ends on exactly one output; no answer lost; the first items after Redis is back use it again`, async () => {
			await setUp();
			const { emulator, n8n } = ctx;
			emulator.loadScenario({ apiKeys: KEYS, latencyMs: LATENCY_MS });
			emulator.resetCounts();
			const { id, path } = await batchWorkflow(mode);
			const batch = items(`${mode}-batch`, ITEMS);

			const response = n8n.webhook(path, { items: batch }, 300_000);
			await until(
				() => emulator.count('anthropic') >= KILL_AFTER_CALLS,
				'the batch to be under way',
				120_000,
			);
			const port = redis!.port;
			await redis!.stop('SIGKILL');
			const killedAtCall = emulator.count('anthropic');
			await sleep(RESTART_AFTER_MS);
			redis = await RedisServer.start(port);
			assert.equal((await response).status, 200);

			const outputs = outputsOf(await n8n.latestExecution(id));
			assertEachOnExactlyOneOutput(
				outputs,
				batch.map((item) => item.id),
			);
			const calls = emulator.count('anthropic');
			assert.ok(calls <= ITEMS * 1, `provider calls within items x attempts (${calls})`);
			assert.equal(
				emulator.answers('anthropic'),
				outputs.answered.length,
				'every answer the provider sent was delivered on Answered',
			);
			assert.equal(outputs.needsHuman.length, 0, 'the provider was healthy throughout');
			assert.ok(killedAtCall < ITEMS, `Redis went down mid-batch (after ${killedAtCall} calls)`);
			const degraded = outputs.answered.filter(
				(item) => (item.resilience as { degraded?: string }).degraded,
			);
			if (mode === 'fail') {
				assert.ok(outputs.errors.length > 0, 'items in the gap failed');
				for (const error of outputs.errors)
					assert.match(String(error.error), /state store is unavailable/);
				// No item failed after its call: each failure came before any provider call.
				assert.equal(calls, outputs.answered.length);
			} else {
				assert.equal(outputs.errors.length, 0, 'no item failed');
				assert.equal(outputs.answered.length, ITEMS);
				assert.equal(calls, ITEMS, 'each item called the provider once');
				assert.ok(degraded.length > 0, 'items in the gap are marked degraded');
				for (const item of degraded)
					assert.match(
						String((item.resilience as { degraded: string }).degraded),
						/Redis at 127\.0\.0\.1/,
					);
			}

			// Redis is back: after at most a few reconnection attempts, items use it again.
			let usedRedis = false;
			for (let tries = 0; tries < 100 && !usedRedis; tries++) {
				const probe = items(`${mode}-probe-${tries}`, 1);
				await n8n.webhook(path, { items: probe });
				const out = outputsOf(await n8n.latestExecution(id));
				assertEachOnExactlyOneOutput(out, [0]);
				usedRedis =
					out.answered.length === 1 &&
					!(out.answered[0].resilience as { degraded?: string }).degraded;
				if (!usedRedis) await sleep(100);
			}
			assert.ok(usedRedis, 'an item used Redis again, with no n8n restart');
			// And it is really Redis that answers: a second run of the same keys is served from it.
			const again = items(`${mode}-after`, 10);
			await n8n.webhook(path, { items: again });
			const first = outputsOf(await n8n.latestExecution(id));
			assert.equal(first.answered.length, 10);
			const callsBefore = emulator.count('anthropic');
			await n8n.webhook(path, { items: again });
			const second = outputsOf(await n8n.latestExecution(id));
			assertEachOnExactlyOneOutput(
				second,
				again.map((item) => item.id),
			);
			assert.ok(
				second.answered.every((item) => (item.resilience as { cached?: boolean }).cached === true),
				'stored answers served from Redis',
			);
			assert.equal(emulator.count('anthropic'), callsBefore, 'no provider call for them');
		});
	});
}
