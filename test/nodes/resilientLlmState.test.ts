/** The node's shared-state options in process: idempotency, the circuit breaker, both stores, an unavailable store. */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';

import { ResilientLlm } from '../../nodes/ResilientLlm/ResilientLlm.node.ts';
import { KEYS, MODELS, useEmulator } from '../support/emulator';
import { fakeExecute } from '../support/fakeExecute';
import { useRedis } from '../support/redisFixture';
import { RedisServer } from '../harness/redis';

const ctx = useEmulator();
const redis = useRedis();

const CHAIN = {
	tiers: [
		{ provider: 'anthropic', model: MODELS.anthropic, attempts: 2, timeoutSeconds: 5 },
		{ provider: 'openai', model: MODELS.openai, attempts: 1, timeoutSeconds: 5 },
	],
};

function credentials(redisPort?: number): Record<string, ICredentialDataDecryptedObject> {
	const urls = ctx.emulator.urls;
	return {
		resilientLlmAnthropicApi: { apiKey: KEYS.anthropic, baseUrl: urls.anthropic },
		resilientLlmOpenAiApi: { apiKey: KEYS.openai, baseUrl: urls.openai },
		...(redisPort
			? { resilientLlmRedisApi: { host: '127.0.0.1', port: redisPort, database: 0 } }
			: {}),
	};
}

/** One "execution" of the node; executions sharing `storagePath` share the embedded store. */
async function execute(
	items: Array<Record<string, unknown>>,
	options: IDataObject,
	storagePath: string,
	redisPort?: number,
	continueOnFail = false,
) {
	const run = fakeExecute({
		items,
		parameters: {
			prompt: (i: number) => items[i].text,
			chain: CHAIN,
			options: { initialBackoffMs: 5, ...options },
			'options.idempotencyKey': (i: number) => items[i].ticket,
		},
		credentials: credentials(redisPort),
		storagePath,
		continueOnFail,
		executionId: `exec-${Math.random()}`,
	});
	const outputs = await new ResilientLlm().execute.call(run.context);
	return { outputs, logs: run.logs };
}

const storage = () => mkdtempSync(join(tmpdir(), 'node-storage-'));
const resilience = (item: { json: IDataObject }) => item.json.resilience as IDataObject;

describe('idempotency', () => {
	for (const store of ['embedded', 'redis'] as const) {
		it(`${store}: a re-run with the same inputs makes no provider call and says it was cached`, async () => {
			ctx.emulator.loadScenario({ apiKeys: KEYS });
			ctx.emulator.resetCounts();
			const folder = storage();
			const options = { idempotency: 'derived', stateStore: store };
			const first = await execute(
				[{ text: `Summarise ticket 1 (${store})` }],
				options,
				folder,
				redis.server.port,
			);
			assert.equal(ctx.emulator.stats().total, 1);
			assert.equal(resilience(first.outputs[0][0]).cached, undefined);
			const second = await execute(
				[{ text: `Summarise ticket 1 (${store})` }],
				options,
				folder,
				redis.server.port,
			);
			assert.equal(ctx.emulator.stats().total, 1, 'no second call');
			assert.equal(resilience(second.outputs[0][0]).cached, true);
			assert.equal(second.outputs[0][0].json.text, first.outputs[0][0].json.text);
			assert.equal(
				resilience(second.outputs[0][0]).tier,
				1,
				'the whole resilience record is stored',
			);
		});

		it(`${store}: 20 concurrent executions with the same key make exactly one provider call`, async () => {
			ctx.emulator.loadScenario({ apiKeys: KEYS, latencyMs: 200 });
			ctx.emulator.resetCounts();
			const folder = storage();
			const runs = await Promise.all(
				Array.from({ length: 20 }, () =>
					execute(
						[{ text: `One refund decision (${store})`, ticket: 'R-1' }],
						{ idempotency: 'custom', stateStore: store },
						folder,
						redis.server.port,
					),
				),
			);
			assert.equal(ctx.emulator.stats().total, 1);
			const texts = new Set(runs.map((r) => r.outputs[0][0].json.text));
			assert.equal(texts.size, 1, 'every execution got the same answer');
			assert.equal(runs.filter((r) => resilience(r.outputs[0][0]).cached === true).length, 19);
		});
	}

	it('an answer that needed a person is not stored: the next run tries again', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS, rules: [{ fault: 'server_error' }] });
		const folder = storage();
		const down = await execute([{ text: 'Summarise X' }], { idempotency: 'derived' }, folder);
		assert.equal(down.outputs[1].length, 1);
		ctx.emulator.loadScenario({ apiKeys: KEYS });
		ctx.emulator.resetCounts();
		const up = await execute([{ text: 'Summarise X' }], { idempotency: 'derived' }, folder);
		assert.equal(up.outputs[0].length, 1);
		assert.equal(ctx.emulator.stats().total, 1);
	});

	it('a custom key that resolves to nothing names the item', async () => {
		await assert.rejects(
			execute([{ text: 'a', ticket: 'T-1' }, { text: 'b' }], { idempotency: 'custom' }, storage()),
			/Item 1: the Idempotency Key is empty/,
		);
	});
});

describe('circuit breaker option', () => {
	it('after the primary fails, the next execution skips it without calling it', async () => {
		ctx.emulator.loadScenario({
			apiKeys: KEYS,
			rules: [{ provider: 'anthropic', fault: 'overloaded' }],
		});
		ctx.emulator.resetCounts();
		const folder = storage();
		const options = { circuitBreaker: true, breakerThreshold: 2 };
		await execute([{ text: 'first' }], options, folder);
		assert.equal(ctx.emulator.count('anthropic'), 2);
		const second = await execute([{ text: 'second' }], options, folder);
		assert.equal(ctx.emulator.count('anthropic'), 2, 'skipped');
		const attempts = resilience(second.outputs[0][0]).attempts as IDataObject[];
		assert.equal(attempts[0].message, 'skipped: circuit open');
	});
});

describe('default options', () => {
	it('the breaker is on: five items against a primary out of quota call it once, later executions never', async () => {
		ctx.emulator.loadScenario({
			apiKeys: KEYS,
			rules: [{ provider: 'anthropic', fault: 'quota_exhausted' }],
		});
		ctx.emulator.resetCounts();
		const folder = storage();
		const items = [1, 2, 3, 4, 5].map((n) => ({ text: `item ${n}` }));
		// No options at all: what an operator who keeps the defaults gets.
		const run = async () => {
			const execution = fakeExecute({
				items,
				parameters: {
					prompt: (i: number) => items[i].text,
					chain: CHAIN,
				},
				credentials: credentials(),
				storagePath: folder,
			});
			return await new ResilientLlm().execute.call(execution.context);
		};
		const first = await run();
		assert.deepEqual(
			first[0].map((item) => resilience(item).tier),
			[2, 2, 2, 2, 2],
		);
		assert.equal(ctx.emulator.count('anthropic'), 1, 'one call, not one per item in flight');
		const second = await run();
		assert.equal(second[0].length, 5);
		assert.equal(ctx.emulator.count('anthropic'), 1, 'the open circuit is skipped');
		assert.equal(ctx.emulator.count('openai'), 10);
	});
});

describe('an unavailable state store', () => {
	it('fails the items with a clear message, or goes on without shared state when told to', async () => {
		const stopped = await RedisServer.start();
		const port = stopped.port;
		await stopped.stop();
		ctx.emulator.loadScenario({ apiKeys: KEYS });
		const failing = await execute(
			[{ text: 'a' }],
			{ idempotency: 'derived', stateStore: 'redis' },
			storage(),
			port,
			true,
		);
		assert.match(
			String(failing.outputs[0][0].json.error),
			new RegExp(
				`Item 0: the state store is unavailable: Redis at 127.0.0.1:${port} is unreachable`,
			),
		);
		const proceeding = await execute(
			[{ text: 'a' }],
			{ idempotency: 'derived', stateStore: 'redis', onStoreUnavailable: 'proceed' },
			storage(),
			port,
		);
		assert.equal(proceeding.outputs[0].length, 1);
		assert.ok(proceeding.logs.some((l) => l.level === 'warn' && /degraded/.test(l.message)));
		const task = proceeding.logs.find((l) => l.message === 'Resilient LLM task');
		assert.equal((task?.meta as IDataObject).degraded, 'no shared state');
	});
});
