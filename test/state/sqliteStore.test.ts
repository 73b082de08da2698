/** The embedded state store: idempotency claims, breaker rules, atomicity across processes, bad files. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

import { SqliteStateStore, StateStoreError } from '../../lib/state/sqliteStore';
import type { BreakerPolicy } from '../../lib/state/types';

const dir = () => mkdtempSync(join(tmpdir(), 'state-store-'));
const POLICY: BreakerPolicy = {
	failureThreshold: 3,
	openMs: 1_000,
	longOpenMs: 60_000,
	probeLeaseMs: 500,
};

describe('idempotency claims', () => {
	it('one owner claims, others wait, a stored result is returned until it expires', async () => {
		const store = new SqliteStateStore(join(dir(), 'state.sqlite'));
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
		const store = new SqliteStateStore(join(dir(), 'state.sqlite'));
		assert.equal((await store.claim('k', 'dead', 1_000, 0)).status, 'claimed');
		assert.equal((await store.claim('k', 'alive', 1_000, 500)).status, 'busy');
		assert.equal((await store.claim('k', 'alive', 1_000, 1_001)).status, 'claimed');
		await store.complete('k', 'dead', 'late result', 60_000, 1_002);
		assert.equal(
			(await store.claim('k', 'third', 1_000, 1_003)).status,
			'busy',
			'the dead owner cannot complete a key it lost',
		);
		await store.release('k', 'alive');
		assert.equal((await store.claim('k', 'third', 1_000, 1_004)).status, 'claimed');
		await store.close();
	});

	it('is atomic across processes: of 8 processes claiming at once, exactly one wins', async () => {
		const file = join(dir(), 'state.sqlite');
		new SqliteStateStore(file); // create the schema first
		const script = `const { SqliteStateStore } = require(${JSON.stringify(resolve(__dirname, '../../lib/state/sqliteStore.ts'))});
			const start = Number(process.argv[1]);
			setTimeout(async () => { const store = new SqliteStateStore(${JSON.stringify(file)}); const r = await store.claim('shared', 'p' + process.pid, 60000); process.stdout.write(r.status); }, Math.max(0, start - Date.now()));`;
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
		assert.deepEqual(statuses, ['busy', 'busy', 'busy', 'busy', 'busy', 'busy', 'busy', 'claimed']);
	});
});

describe('breaker rules', () => {
	it('opens after consecutive transient failures, lets one probe through after the cool-down, closes on success', async () => {
		const store = new SqliteStateStore(join(dir(), 'state.sqlite'));
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
		assert.equal(await store.admit(c, POLICY, 1_007), 'open', 'only one probe at a time');
		await store.record(c, 'success', POLICY, 1_100);
		assert.equal(await store.admit(c, POLICY, 1_101), 'allow');
		assert.deepEqual(await store.snapshot(c, 1_102), {
			state: 'closed',
			failures: 0,
			openUntil: 0,
		});
		await store.close();
	});

	it('a failed probe re-opens at once; quota and auth failures open for longer', async () => {
		const store = new SqliteStateStore(join(dir(), 'state.sqlite'));
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
