/**
 * Both state stores, held to the same contract: idempotency claims, breaker rules and
 * atomicity across processes. The embedded store also refuses bad files; Redis fails fast
 * when it is unreachable.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { FIRST_CALL_HOLD_MS } from '../../lib/state/breakerRules';
import { RedisStateStore, StateStoreUnavailableError } from '../../lib/state/redisStore';
import { SqliteStateStore, StateStoreError } from '../../lib/state/sqliteStore';
import { runOnce } from '../../lib/state/idempotency';
import type { BreakerPolicy, StateStore } from '../../lib/state/types';
import { RedisServer } from '../harness/redis';
import { TEST_BREAKER_POLICY } from '../support/breakerPolicy';
import { until } from '../support/until';

const dir = () => mkdtempSync(join(tmpdir(), 'state-store-'));
const POLICY = TEST_BREAKER_POLICY;

let redis: RedisServer;
before(async () => {
	redis = await RedisServer.start();
});
after(async () => {
	await redis?.stop();
});

interface StoreKind {
	name: string;
	open(): Promise<StateStore>;
	/** A script for a separate process that claims the key 'shared' at a given time and prints the outcome. */
	claimScript(): string;
}

const SQLITE_MODULE = JSON.stringify(resolve(__dirname, '../../lib/state/sqliteStore.ts'));
const REDIS_MODULE = JSON.stringify(resolve(__dirname, '../../lib/state/redisStore.ts'));
let prefixes = 0;

const KINDS: StoreKind[] = [
	{
		name: 'embedded (SQLite)',
		open: async () => new SqliteStateStore(join(dir(), 'state.sqlite')),
		claimScript() {
			const file = join(dir(), 'state.sqlite');
			new SqliteStateStore(file); // the schema exists before the race
			return `const { SqliteStateStore } = require(${SQLITE_MODULE});
				setTimeout(async () => { const store = new SqliteStateStore(${JSON.stringify(file)}); const r = await store.claim('shared', 'p' + process.pid, 60000); process.stdout.write(r.status); }, Math.max(0, Number(process.argv[1]) - Date.now()));`;
		},
	},
	{
		name: 'Redis',
		open: async () => {
			const store = new RedisStateStore({
				host: '127.0.0.1',
				port: redis.port,
				prefix: `t${++prefixes}:`,
			});
			await store.connect();
			return store;
		},
		claimScript() {
			const prefix = `race${++prefixes}:`;
			return `const { RedisStateStore } = require(${REDIS_MODULE});
				(async () => { const store = new RedisStateStore({ host: '127.0.0.1', port: ${redis.port}, prefix: '${prefix}' }); await store.connect();
				setTimeout(async () => { const r = await store.claim('shared', 'p' + process.pid, 60000); process.stdout.write(r.status); await store.close(); }, Math.max(0, Number(process.argv[1]) - Date.now())); })();`;
		},
	},
];

for (const kind of KINDS) {
	describe(`${kind.name} store`, () => {
		describe('idempotency claims', () => {
			it('one owner claims, others wait, a stored result is returned until it expires', async () => {
				const store = await kind.open();
				const t = 1_000_000;
				assert.deepEqual(await store.claim('k', 'a', 5_000, t), { status: 'claimed' });
				assert.deepEqual(await store.claim('k', 'b', 5_000, t + 1), {
					status: 'busy',
					leaseUntil: t + 5_000,
				});
				await store.complete('k', 'a', '{"text":"hi"}', 60_000, t + 2);
				assert.deepEqual(await store.claim('k', 'b', 5_000, t + 3), {
					status: 'done',
					result: '{"text":"hi"}',
				});
				assert.deepEqual(
					await store.claim('k', 'b', 5_000, t + 60_003),
					{ status: 'claimed' },
					'expired results are not served',
				);
				await store.close();
			});

			it('a lease that ran out (its owner died) is taken over; a released key is free again', async () => {
				const store = await kind.open();
				assert.equal((await store.claim('k', 'dead', 1_000, 0)).status, 'claimed');
				assert.equal((await store.claim('k', 'alive', 1_000, 500)).status, 'busy');
				assert.equal((await store.claim('k', 'alive', 1_000, 1_001)).status, 'claimed');
				assert.equal(
					await store.renew('k', 'dead', 1_000, 1_002),
					false,
					'an owner that lost its lease is told so',
				);
				assert.equal((await store.claim('k', 'third', 1_000, 1_003)).status, 'busy');
				await store.release('k', 'dead');
				assert.equal(
					(await store.claim('k', 'third', 1_000, 1_003)).status,
					'busy',
					'only the owner releases',
				);
				await store.release('k', 'alive');
				assert.equal((await store.claim('k', 'third', 1_000, 1_004)).status, 'claimed');
				await store.close();
			});

			it('an owner that renews its lease keeps the key for as long as it works', async () => {
				const store = await kind.open();
				assert.equal((await store.claim('k', 'slow', 1_000, 0)).status, 'claimed');
				assert.equal(await store.renew('k', 'slow', 1_000, 900), true);
				assert.deepEqual(await store.claim('k', 'other', 1_000, 1_500), {
					status: 'busy',
					leaseUntil: 1_900,
				});
				assert.equal(await store.renew('k', 'slow', 1_000, 1_800), true);
				assert.equal((await store.claim('k', 'other', 1_000, 2_500)).status, 'busy');
				assert.equal(await store.renew('k', 'other', 1_000, 2_600), false, 'not its key');
				// Renewals stop (the owner died): its lease runs out and the key is taken over.
				assert.equal((await store.claim('k', 'other', 1_000, 2_801)).status, 'claimed');
				assert.equal(await store.renew('k', 'slow', 1_000, 2_802), false);
				assert.equal(await store.renew('k', 'other', 1_000, 2_803), true);
				await store.complete('k', 'other', 'answer', 60_000, 2_804);
				assert.equal(
					await store.renew('k', 'other', 1_000, 2_805),
					false,
					'done: nothing to renew',
				);
				assert.equal(
					await store.renew('k', 'other', 1_000, 62_805),
					true,
					'an answer past its TTL is no answer: the key is free again',
				);
				await store.close();
			});

			it('an owner whose lease lapsed while it worked still stores its answer; the first answer stored stays', async () => {
				const store = await kind.open();
				assert.equal((await store.claim('k', 'first', 1_000, 0)).status, 'claimed');
				assert.equal((await store.claim('k', 'second', 1_000, 1_001)).status, 'claimed');
				await store.complete('k', 'first', 'answer of the first', 60_000, 1_002);
				assert.deepEqual(
					await store.claim('k', 'third', 1_000, 1_003),
					{ status: 'done', result: 'answer of the first' },
					'a paid answer is kept though its lease was lost',
				);
				await store.complete('k', 'second', 'answer of the second', 60_000, 1_004);
				await store.release('k', 'second');
				assert.deepEqual(
					await store.claim('k', 'third', 1_000, 1_005),
					{ status: 'done', result: 'answer of the first' },
					'the answer served stays the same',
				);
				// With no record left at all (purged), a late answer is stored too.
				await store.complete('gone', 'late', 'late answer', 60_000, 5_000);
				assert.deepEqual(await store.claim('gone', 'other', 1_000, 5_001), {
					status: 'done',
					result: 'late answer',
				});
				await store.close();
			});

			it('runOnce renews the lease while the task runs: a second run waits and gets the one paid answer', async () => {
				const store = await kind.open();
				const leaseMs = 600;
				let paidCalls = 0;
				let finish!: (answer: string) => void;
				const claimedAt = Date.now();
				const first = runOnce(
					store,
					'slow-task',
					'worker-1',
					{ leaseMs, ttlMs: 60_000, renewEveryMs: 50 },
					() => {
						paidCalls++;
						return new Promise<string>((resolve) => (finish = resolve));
					},
					() => true,
				);
				// Well past the first lease: without renewals the key would be free now.
				await until(
					() => Date.now() > claimedAt + 2.5 * leaseMs,
					'the first lease to pass twice over',
				);
				let secondDone = false;
				const second = runOnce(
					store,
					'slow-task',
					'worker-2',
					{ leaseMs, ttlMs: 60_000, pollMs: 20 },
					async () => {
						paidCalls++;
						return 'answer of worker 2';
					},
					() => true,
				).finally(() => (secondDone = true));
				await until(
					() => secondDone || paidCalls > 1 || Date.now() > claimedAt + 4 * leaseMs,
					'the second run to wait a while',
				);
				assert.equal(paidCalls, 1, 'the second run waits for the first, which still works');
				finish('answer of worker 1');
				assert.deepEqual(await first, { result: 'answer of worker 1', cached: false });
				assert.deepEqual(await second, { result: 'answer of worker 1', cached: true });
				assert.equal(paidCalls, 1);
				await store.close();
			});

			it('is atomic across processes: of 8 processes claiming at once, exactly one wins', async () => {
				const script = kind.claimScript();
				const start = Date.now() + 2_500;
				const run = promisify(execFile);
				const results = await Promise.all(
					Array.from({ length: 8 }, () =>
						run(process.execPath, ['--import', 'tsx', '-e', script, String(start)], {
							timeout: 30_000,
						}),
					),
				);
				const statuses = results.map((r) => r.stdout).sort();
				assert.deepEqual(statuses, [
					'busy',
					'busy',
					'busy',
					'busy',
					'busy',
					'busy',
					'busy',
					'claimed',
				]);
			});
		});

		describe('breaker rules', () => {
			it('opens after consecutive transient failures, lets one probe through after the cool-down, closes on success', async () => {
				const store = await kind.open();
				const c = 'anthropic/claude-haiku-4-5';
				for (let i = 0; i < 2; i++) await store.record(c, 'transient', POLICY, 0);
				assert.equal(await store.admit(c, POLICY, 1), 'allow', 'below the threshold');
				await store.record(c, 'success', POLICY, 2);
				for (let i = 0; i < 2; i++) await store.record(c, 'transient', POLICY, 3);
				assert.equal(await store.admit(c, POLICY, 4), 'allow', 'a success resets the count');
				await store.record(c, 'transient', POLICY, 5);
				assert.equal(await store.admit(c, POLICY, 6), 'open');
				assert.equal(await store.admit(c, POLICY, 1_004), 'open', 'still cooling down');
				assert.equal(await store.admit(c, POLICY, 1_006), 'probe', 'one probe after the cool-down');
				assert.equal(
					await store.admit(c, POLICY, 1_007),
					'wait',
					'only one probe at a time: the others wait for its outcome',
				);
				await store.record(c, 'success', POLICY, 1_100);
				assert.equal(await store.admit(c, POLICY, 1_101), 'allow');
				assert.deepEqual(await store.snapshot(c, 1_102), {
					state: 'closed',
					failures: 0,
					openUntil: 0,
				});
				await store.close();
			});

			it("a circuit's first call goes alone; its outcome, or its release, lets the others through", async () => {
				const store = await kind.open();
				assert.equal(await store.admit('new', POLICY, 0), 'probe', 'never called: a test call');
				assert.equal(await store.admit('new', POLICY, 1), 'wait', 'the others wait for it');
				await store.record('new', 'transient', POLICY, 2);
				assert.equal(
					await store.admit('new', POLICY, 3),
					'allow',
					'a passing failure of the first call counts, and does not open the circuit',
				);
				assert.equal((await store.snapshot('new', 3)).failures, 1);
				assert.equal(await store.admit('stopped', POLICY, 0), 'probe');
				await store.record('stopped', 'released', POLICY, 1);
				assert.equal(await store.admit('stopped', POLICY, 2), 'allow', 'a stopped first call');
				assert.equal(await store.admit('lost', POLICY, 0), 'probe');
				assert.equal(
					await store.admit('lost', POLICY, FIRST_CALL_HOLD_MS),
					'allow',
					'a first call whose caller died holds nobody up past its lease',
				);
				await store.close();
			});

			it('a failed probe re-opens at once; quota and auth failures open for longer', async () => {
				const store = await kind.open();
				for (let i = 0; i < 3; i++) await store.record('a', 'transient', POLICY, 0);
				assert.equal(await store.admit('a', POLICY, 1_000), 'probe');
				await store.record('a', 'transient', POLICY, 1_001);
				assert.equal(await store.admit('a', POLICY, 1_500), 'open');
				assert.equal(await store.admit('a', POLICY, 2_001), 'probe');
				await store.record('b', 'hard', POLICY, 0);
				assert.equal(await store.admit('b', POLICY, 59_999), 'open');
				assert.equal(await store.admit('b', POLICY, 60_000), 'probe');
				await store.close();
			});

			it('opens on a failure rate over a window, with no failures in a row', async () => {
				const store = await kind.open();
				const rated = { ...POLICY, failureRate: 0.5 };
				// Every other call fails: never two in a row, so only the rate can open it.
				const flap = async (c: string, policy: BreakerPolicy, from: number, calls: number) => {
					for (let i = 0; i < calls; i++)
						await store.record(c, i % 2 ? 'success' : 'transient', policy, from + i);
				};
				await flap('off', POLICY, 0, 20);
				assert.equal(await store.admit('off', POLICY, 100), 'allow', 'rate off: stays closed');

				await flap('flapping', rated, 0, 3);
				assert.equal(
					await store.admit('flapping', rated, 3),
					'allow',
					'fewer calls than the minimum',
				);
				await store.record('flapping', 'success', rated, 4);
				await store.record('flapping', 'transient', rated, 5);
				assert.equal(await store.admit('flapping', rated, 6), 'open', '3 of 5 calls failed');
				assert.equal((await store.snapshot('flapping', 6)).state, 'open');

				// Failures spread over separate windows never add up.
				for (let w = 0; w < 4; w++) {
					await store.record('slow', 'transient', rated, w * 10_000);
					for (let i = 1; i < 4; i++) await store.record('slow', 'success', rated, w * 10_000 + i);
				}
				assert.equal(await store.admit('slow', rated, 40_000), 'allow', '1 of 4 per window');
				await store.close();
			});
		});
	});
}

for (const kind of KINDS) {
	describe(`${kind.name} store: alert counters`, () => {
		it('counts tasks per workflow, tier and minute, and reads a window', async () => {
			const store = await kind.open();
			const t = Date.parse('2026-11-27T12:00:30Z');
			const named = (workflowName: string) => ({
				tier: 1,
				escalated: false,
				costUsd: 0.001,
				workflowName,
			});
			await store.countTask('wf-a', named('Ticket summaries'), t);
			// A renamed workflow shows its latest name.
			await store.countTask(
				'wf-a',
				{ ...named('Ticket summaries v2'), tier: 2, costUsd: 0.0005 },
				t + 60_000,
			);
			await store.countTask('wf-a', { escalated: true, costUsd: 0 }, t + 120_000);
			await store.countTask('wf-a', { tier: 6, escalated: false, costUsd: 0 }, t + 120_000);
			await store.countTask('wf-b', { tier: 1, escalated: false, costUsd: 0.002 }, t);
			await store.countTask('wf-a', { tier: 1, escalated: false, costUsd: 0.001 }, t - 3_600_000);
			const window = await store.readCounters(t - 60_000, t + 180_000);
			assert.deepEqual(window.get('wf-a'), {
				tasks: 4,
				answeredByTier: [1, 1, 0, 1],
				escalated: 1,
				costUsd: 0.0015,
				workflowName: 'Ticket summaries v2',
			});
			assert.deepEqual(window.get('wf-b'), {
				tasks: 1,
				answeredByTier: [1, 0, 0, 0],
				escalated: 0,
				costUsd: 0.002,
			});
			assert.equal((await store.readCounters(t + 180_000, t + 240_000)).size, 0);
			await store.close();
		});

		it('lists the circuits that are not closed', async () => {
			const store = await kind.open();
			await store.record('anthropic/claude-haiku-4-5', 'hard', POLICY, 0);
			await store.record('openai/gpt-4o-mini', 'success', POLICY, 0);
			assert.deepEqual(await store.openCircuits(1), ['anthropic/claude-haiku-4-5']);
			await store.close();
		});

		it('does not list a circuit past its cool-down: with no traffic, it has recovered', async () => {
			const store = await kind.open();
			await store.record('anthropic/claude-haiku-4-5', 'hard', POLICY, 0);
			for (let i = 0; i < 3; i++) await store.record('openai/gpt-4o-mini', 'transient', POLICY, 0);
			assert.deepEqual(await store.openCircuits(POLICY.openMs - 1), [
				'anthropic/claude-haiku-4-5',
				'openai/gpt-4o-mini',
			]);
			assert.deepEqual(
				await store.openCircuits(POLICY.openMs),
				['anthropic/claude-haiku-4-5'],
				'the short cool-down has passed',
			);
			assert.deepEqual(await store.openCircuits(POLICY.longOpenMs), [], 'and the long one');
			// A probe in flight has not shown recovery yet; once its lease lapses, nothing is open.
			assert.equal(await store.admit('openai/gpt-4o-mini', POLICY, POLICY.longOpenMs), 'probe');
			assert.deepEqual(await store.openCircuits(POLICY.longOpenMs + 1), ['openai/gpt-4o-mini']);
			assert.deepEqual(await store.openCircuits(POLICY.longOpenMs + POLICY.probeLeaseMs), []);
			await store.close();
		});
	});
}

describe('Redis store', () => {
	it('an unreachable Redis fails fast with a clear message, never hangs', async () => {
		const port = await RedisServer.start().then(async (r) => {
			await r.stop();
			return r.port;
		});
		const store = new RedisStateStore({ host: '127.0.0.1', port });
		// Fast means on the refused connection itself, not after waiting out a timeout.
		await assert.rejects(
			store.connect(),
			(e: unknown) =>
				e instanceof StateStoreUnavailableError &&
				new RegExp(`Redis at 127.0.0.1:${port} is unreachable`).test(e.message) &&
				!/timed? ?out|ETIMEDOUT/i.test(e.message),
		);
		await store.close();
	});
});

describe('bad store files', () => {
	it('a corrupted file gets a clear error naming it', () => {
		const file = join(dir(), 'broken.sqlite');
		writeFileSync(file, 'this is not a database, just text that happens to be here'.repeat(100));
		assert.throws(
			() => new SqliteStateStore(file),
			(e: unknown) =>
				e instanceof StateStoreError && e.message.includes(file) && /cannot use/.test(e.message),
		);
	});

	it('a file from the first schema gets the failure-rate columns and keeps its breaker rows', async () => {
		const file = join(dir(), 'old.sqlite');
		const db = new DatabaseSync(file);
		db.exec(`CREATE TABLE resilient_llm_meta (schema_version INTEGER NOT NULL);
			INSERT INTO resilient_llm_meta VALUES (1);
			CREATE TABLE breaker (circuit TEXT PRIMARY KEY, state TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0,
				open_until INTEGER NOT NULL DEFAULT 0, probe_until INTEGER NOT NULL DEFAULT 0);
			INSERT INTO breaker VALUES ('openai/gpt-4o-mini', 'open', 3, 5000, 0);`);
		db.close();
		const store = new SqliteStateStore(file);
		assert.deepEqual(await store.snapshot('openai/gpt-4o-mini', 1_000), {
			state: 'open',
			failures: 3,
			openUntil: 5_000,
		});
		const rated = { ...POLICY, failureRate: 0.5, rateMinCalls: 2 };
		await store.record('anthropic/claude-haiku-4-5', 'success', rated, 0);
		await store.record('anthropic/claude-haiku-4-5', 'transient', rated, 1);
		assert.equal(await store.admit('anthropic/claude-haiku-4-5', rated, 2), 'open');
		await store.close();
		const check = new DatabaseSync(file);
		assert.deepEqual(
			{ ...(check.prepare('SELECT schema_version FROM resilient_llm_meta').get() as object) },
			{ schema_version: 2 },
		);
		check.close();
	});

	it("another program's SQLite file is refused, naming it", () => {
		const file = join(dir(), 'other.sqlite');
		const db = new DatabaseSync(file);
		db.exec('CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)');
		db.close();
		assert.throws(
			() => new SqliteStateStore(file),
			(e: unknown) =>
				e instanceof StateStoreError &&
				e.message.includes(file) &&
				/something else \(tables: customers\)/.test(e.message),
		);
	});
});
