/**
 * The node when its state store fails during a run: item by item, never the whole node, and
 * no answer a provider sent is lost. Faults are real: SQLite triggers that make the file
 * fail its writes, and a redis-server stopped and started again.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';

import Redis from 'ioredis';
import type { ICredentialDataDecryptedObject, IDataObject, INodeExecutionData } from 'n8n-workflow';

import { SqliteStateStore } from '../../lib/state/sqliteStore';
import { closeStateStores } from '../../nodes/shared/stateStores';
import { ResilientLlm } from '../../nodes/ResilientLlm/ResilientLlm.node.ts';
import { KEYS, MODELS, useEmulator } from '../support/emulator';
import { fakeExecute } from '../support/fakeExecute';
import { useRedis } from '../support/redisFixture';
import { until } from '../support/until';
import { RedisServer } from '../harness/redis';

const ctx = useEmulator();
const redis = useRedis();

const CHAIN = {
	tiers: [
		{ provider: 'anthropic', model: MODELS.anthropic, attempts: 2, timeoutSeconds: 5 },
		{ provider: 'openai', model: MODELS.openai, attempts: 1, timeoutSeconds: 5 },
	],
};

function credentials(
	redisCredential?: ICredentialDataDecryptedObject,
): Record<string, ICredentialDataDecryptedObject> {
	const urls = ctx.emulator.urls;
	return {
		resilientLlmAnthropicApi: { apiKey: KEYS.anthropic, baseUrl: urls.anthropic },
		resilientLlmOpenAiApi: { apiKey: KEYS.openai, baseUrl: urls.openai },
		...(redisCredential ? { resilientLlmRedisApi: redisCredential } : {}),
	};
}

async function execute(
	texts: string[],
	options: IDataObject,
	setting: {
		storagePath?: string;
		redis?: ICredentialDataDecryptedObject;
		continueOnFail?: boolean;
	} = {},
) {
	const items = texts.map((text) => ({ text }));
	const run = fakeExecute({
		items,
		parameters: {
			prompt: (i: number) => items[i].text,
			chain: CHAIN,
			options: { initialBackoffMs: 5, ...options },
		},
		credentials: credentials(setting.redis),
		storagePath: setting.storagePath ?? mkdtempSync(join(tmpdir(), 'store-trouble-')),
		continueOnFail: setting.continueOnFail ?? false,
		executionId: `exec-${Math.random()}`,
	});
	const outputs = await new ResilientLlm().execute.call(run.context);
	return { outputs, logs: run.logs };
}

const resilience = (item: INodeExecutionData) => item.json.resilience as IDataObject;

/**
 * A node storage folder whose embedded store fails every write to `table` after the first
 * `okWrites`, as a full disk or a broken file would.
 */
function failingStore(table: 'breaker' | 'idempotency' | 'counters', okWrites: number): string {
	const folder = mkdtempSync(join(tmpdir(), 'failing-store-'));
	const file = join(folder, 'state.sqlite');
	new SqliteStateStore(file); // the schema
	const db = new DatabaseSync(file);
	db.exec(`CREATE TABLE fault (writes INTEGER NOT NULL); INSERT INTO fault VALUES (0);
		CREATE TRIGGER count_inserts AFTER INSERT ON ${table} BEGIN UPDATE fault SET writes = writes + 1; END;
		CREATE TRIGGER count_updates AFTER UPDATE ON ${table} BEGIN UPDATE fault SET writes = writes + 1; END;
		CREATE TRIGGER fail_inserts BEFORE INSERT ON ${table} WHEN (SELECT writes FROM fault) >= ${okWrites}
		BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;
		CREATE TRIGGER fail_updates BEFORE UPDATE ON ${table} WHEN (SELECT writes FROM fault) >= ${okWrites}
		BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;`);
	db.close();
	return folder;
}

describe('a state store failing during a run', () => {
	for (const onStoreUnavailable of ['fail', 'proceed'] as const) {
		it(`${onStoreUnavailable}: the breaker's third outcome fails to be written; all 3 answers come out, the unrecorded one marked degraded`, async () => {
			ctx.emulator.loadScenario({ apiKeys: KEYS, latencyMs: 20 });
			ctx.emulator.resetCounts();
			const { outputs, logs } = await execute(
				['one', 'two', 'three'],
				{ circuitBreaker: true, onStoreUnavailable },
				// Writes: the circuit's first-call lease, two outcomes, then the failing one.
				{ storagePath: failingStore('breaker', 3) },
			);
			assert.equal(ctx.emulator.stats().total, 3, 'one call per item');
			assert.deepEqual(
				outputs[0].map((i) => [i.json.text !== undefined, i.json.error]),
				[
					[true, undefined],
					[true, undefined],
					[true, undefined],
				],
			);
			const degraded = outputs[0].filter((i) => resilience(i).degraded !== undefined);
			assert.equal(degraded.length, 1);
			assert.match(
				String(resilience(degraded[0]).degraded),
				/recording the circuit breaker outcome failed: disk I\/O error/,
			);
			const tasks = logs.filter((l) => l.message === 'Resilient LLM task');
			assert.equal(tasks.filter((l) => (l.meta as IDataObject).degraded).length, 1);
		});
	}

	it('fail: an idempotency claim that fails sends that item to the error output before any call', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS, latencyMs: 50 });
		ctx.emulator.resetCounts();
		const { outputs } = await execute(
			['one', 'two', 'three'],
			{ idempotency: 'derived', onStoreUnavailable: 'fail' },
			{ storagePath: failingStore('idempotency', 2), continueOnFail: true },
		);
		assert.equal(ctx.emulator.stats().total, 2, 'no call for the item whose claim failed');
		const errors = outputs[0].filter((i) => i.error);
		assert.equal(errors.length, 1);
		assert.match(
			String(errors[0].json.error),
			/^Item 2: the state store is unavailable: claiming the idempotency key failed: .*disk I\/O error/,
		);
		assert.deepEqual(errors[0].pairedItem, { item: 2 });
		// The two answers that came could not be stored: delivered all the same, marked.
		const answers = outputs[0].filter((i) => !i.error);
		assert.equal(answers.length, 2);
		for (const answer of answers)
			assert.match(
				String(resilience(answer).degraded),
				/storing the answer for idempotency failed/,
			);
	});

	it('fail, with On Error set to stop: no item starts after the failure, and the answers already paid for, which the store could not keep, are delivered', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS, latencyMs: 50 });
		ctx.emulator.resetCounts();
		const { outputs, logs } = await execute(
			['one', 'two', 'three', 'four', 'five', 'six'],
			{ idempotency: 'derived', onStoreUnavailable: 'fail', concurrency: 3 },
			{ storagePath: failingStore('idempotency', 2) },
		);
		assert.equal(ctx.emulator.stats().total, 2, 'no item started after the failure');
		assert.deepEqual(
			outputs[0].map((i) => i.pairedItem),
			[{ item: 0 }, { item: 1 }],
			'the two answers the provider sent come out',
		);
		for (const answer of outputs[0])
			assert.match(
				String(resilience(answer).degraded),
				/storing the answer for idempotency failed/,
			);
		assert.deepEqual(
			outputs[1].map((i) => i.pairedItem),
			[2, 3, 4, 5].map((item) => ({ item })),
			'every other item ends on Needs Human',
		);
		assert.match(
			String(outputs[1][0].json.reason),
			/^Did not finish: Item 2: the state store is unavailable/,
		);
		assert.ok(logs.some((l) => /delivering the 2 answer\(s\) already received/.test(l.message)));
	});

	it('fail, with On Error set to stop and the answers kept in the store: the node stops, and the re-run gets them without a call', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS, latencyMs: 50 });
		ctx.emulator.resetCounts();
		const storagePath = mkdtempSync(join(tmpdir(), 'store-trouble-'));
		await execute(['one', 'two'], { idempotency: 'derived' }, { storagePath });
		assert.equal(ctx.emulator.stats().total, 2);
		// The store now refuses new claims: the third item fails, the first two are stored.
		const db = new DatabaseSync(join(storagePath, 'state.sqlite'));
		db.exec(`CREATE TRIGGER fail_claims BEFORE INSERT ON idempotency
			BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;`);
		db.close();
		await assert.rejects(
			execute(['one', 'two', 'three'], { idempotency: 'derived', concurrency: 1 }, { storagePath }),
			/Item 2: the state store is unavailable/,
		);
		assert.equal(ctx.emulator.stats().total, 2, 'the stored answers were not paid for again');
	});

	it('proceed: an idempotency claim that fails runs the item without it, marked degraded', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS, latencyMs: 50 });
		ctx.emulator.resetCounts();
		const { outputs } = await execute(
			['one', 'two', 'three'],
			{ idempotency: 'derived', onStoreUnavailable: 'proceed' },
			{ storagePath: failingStore('idempotency', 2) },
		);
		assert.equal(ctx.emulator.stats().total, 3);
		assert.equal(outputs[0].length, 3);
		assert.match(
			String(resilience(outputs[0][2]).degraded),
			/claiming the idempotency key failed: .*disk I\/O error/,
		);
	});
});

describe('alert counters while the store fails their writes', () => {
	it('no item fails or is marked degraded; the counts are written once the store takes writes again', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS });
		const storagePath = failingStore('counters', 0);
		const { outputs, logs } = await execute(
			['one', 'two', 'three'],
			{ recordMetrics: true, circuitBreaker: false, idempotency: 'off' },
			{ storagePath },
		);
		assert.deepEqual(
			outputs[0].map((i) => [i.json.error, resilience(i).degraded]),
			[
				[undefined, undefined],
				[undefined, undefined],
				[undefined, undefined],
			],
		);
		const file = join(storagePath, 'state.sqlite');
		const counted = async () => {
			const reader = new SqliteStateStore(file);
			try {
				return (await reader.readCounters(Date.now() - 600_000, Date.now() + 60_000)).get('wf-1')
					?.tasks;
			} finally {
				await reader.close();
			}
		};
		// The timed write fails; the counts wait in memory until the fault is removed.
		const warning = () =>
			logs.find((l) => l.message.startsWith('Resilient LLM: could not write alert counters'));
		await until(() => warning() !== undefined, 'a failed counter write');
		assert.match(String((warning()!.meta as IDataObject).error), /disk I\/O error/);
		assert.equal((warning()!.meta as IDataObject).pendingTasks, 3);
		assert.equal(await counted(), undefined, 'nothing written yet');
		const db = new DatabaseSync(file);
		db.exec('DROP TRIGGER fail_inserts; DROP TRIGGER fail_updates;');
		db.close();
		await closeStateStores();
		assert.equal(await counted(), 3, 'all three, once');
	});
});

describe('a state store that cannot be opened', () => {
	it("the item's error names the item, the store and the system's reason, not n8n's generic sentence for that code", async () => {
		// The storage folder would have to be made inside a regular file: ENOTDIR, a code n8n
		// otherwise turns into "The directory path was expected but the given path is a file".
		const notAFolder = join(mkdtempSync(join(tmpdir(), 'not-a-folder-')), 'file');
		writeFileSync(notAFolder, '');
		const storagePath = join(notAFolder, 'storage');
		ctx.emulator.loadScenario({ apiKeys: KEYS });
		const options = { idempotency: 'derived', stateStore: 'embedded', onStoreUnavailable: 'fail' };
		const { outputs } = await execute(['a'], options, { storagePath, continueOnFail: true });
		assert.match(
			String(outputs[0][0].json.error),
			/^Item 0: the state store is unavailable: .*ENOTDIR/,
		);
		await assert.rejects(execute(['a'], options, { storagePath }), (error: Error) => {
			assert.match(error.message, /^Item 0: the state store is unavailable: .*ENOTDIR/);
			return true;
		});
	});
});

describe('Redis stopped and started again under the node', () => {
	it('items in the gap fail fast or proceed degraded; after Redis is back, the next items use it again', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS });
		let server = await RedisServer.start();
		const credential = { host: '127.0.0.1', port: server.port, database: 0 };
		const options = { idempotency: 'derived', stateStore: 'redis' };
		try {
			const first = await execute(['before the outage'], options, { redis: credential });
			assert.equal(first.outputs[0].length, 1);

			await server.stop();
			ctx.emulator.resetCounts();
			const failing = await execute(['in the gap'], options, {
				redis: credential,
				continueOnFail: true,
			});
			const error = String(failing.outputs[0][0].json.error);
			assert.match(error, /^Item 0: the state store is unavailable: .*Redis at 127\.0\.0\.1:\d+/);
			// Fast: refused at once, not after the command timeout.
			assert.doesNotMatch(error, /timed? ?out/i);
			assert.equal(ctx.emulator.stats().total, 0);
			const proceeding = await execute(
				['in the gap'],
				{ ...options, onStoreUnavailable: 'proceed' },
				{ redis: credential },
			);
			assert.equal(ctx.emulator.stats().total, 1);
			assert.match(String(resilience(proceeding.outputs[0][0]).degraded), /Redis at/);

			await new Promise((resolve) => setTimeout(resolve, 3_000));
			server = await RedisServer.start(server.port);
			await new Promise((resolve) => setTimeout(resolve, 1_500));
			ctx.emulator.resetCounts();
			const again = await execute(['after the outage'], options, { redis: credential });
			const cached = await execute(['after the outage'], options, { redis: credential });
			assert.equal(resilience(again.outputs[0][0]).degraded, undefined);
			assert.equal(resilience(cached.outputs[0][0]).cached, true, 'stored in Redis again');
			assert.equal(ctx.emulator.stats().total, 1);
		} finally {
			await server.stop();
		}
	});
});

describe('the Redis credential', () => {
	it("a Key Prefix keeps two installations' circuits apart on one Redis", async () => {
		ctx.emulator.loadScenario({
			apiKeys: KEYS,
			rules: [{ provider: 'anthropic', fault: 'overloaded' }],
		});
		const credential = (prefix: string) => ({
			host: '127.0.0.1',
			port: redis.server.port,
			database: 0,
			prefix,
		});
		const options = { circuitBreaker: true, breakerThreshold: 2, stateStore: 'redis' };
		ctx.emulator.resetCounts();
		await execute(['site A'], options, { redis: credential('site-a:') });
		assert.equal(ctx.emulator.count('anthropic'), 2, 'two failures open site A circuit');
		await execute(['site A again'], options, { redis: credential('site-a:') });
		assert.equal(ctx.emulator.count('anthropic'), 2, 'site A skips it now');
		await execute(['site B'], options, { redis: credential('site-b:') });
		assert.equal(ctx.emulator.count('anthropic'), 4, 'site B has its own circuit');

		const client = new Redis({ host: '127.0.0.1', port: redis.server.port, lazyConnect: true });
		await client.connect();
		try {
			assert.ok((await client.keys('site-a:breaker:*')).length > 0);
			assert.ok((await client.keys('site-b:breaker:*')).length > 0);
			assert.deepEqual(await client.keys('resilient-llm:*'), [], 'nothing under the default');
		} finally {
			client.disconnect();
		}
	});
});

describe('Options › Concurrency', () => {
	it('a value that is not a number is a configuration error naming the field, not a silent empty output', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS });
		await assert.rejects(
			execute(['a', 'b'], { concurrency: 'four' }),
			/Item 0: Options › Concurrency must be a number from 1 to 64, got "four"/,
		);
		const { outputs } = await execute(
			['a', 'b'],
			{ concurrency: 'four' },
			{ continueOnFail: true },
		);
		assert.deepEqual(
			outputs[0].map((i) => i.pairedItem),
			[{ item: 0 }, { item: 1 }],
			'every item leaves on the error output',
		);
		const sent = await execute(['a', 'b', 'c'], { concurrency: '2' });
		assert.equal(sent.outputs[0].length, 3, 'a number given as text is a number');
	});
});
