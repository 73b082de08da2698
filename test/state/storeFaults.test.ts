/**
 * The stores when something goes wrong around them: Redis going away and coming back, and
 * what the embedded file keeps, and for whom.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';

import { RedisStateStore } from '../../lib/state/redisStore';
import { LOCK_WAIT_MS, SqliteStateStore } from '../../lib/state/sqliteStore';
import { RedisServer } from '../harness/redis';
import { TEST_BREAKER_POLICY } from '../support/breakerPolicy';

const POLICY = TEST_BREAKER_POLICY;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Redis store: an outage', () => {
	it('after Redis is stopped for 3 s and started again, the same store works again without a restart', async () => {
		let server = await RedisServer.start();
		const port = server.port;
		const store = new RedisStateStore({ host: '127.0.0.1', port, prefix: 'blip:' });
		try {
			await store.connect();
			assert.equal(await store.admit('c', POLICY), 'probe', "a circuit's first call tests it");

			await server.stop();
			// At once, not after the command timeout: no offline queue holds the command.
			await assert.rejects(store.admit('c', POLICY), (error: Error) => {
				assert.match(error.message, /Redis at 127\.0\.0\.1:\d+ is unavailable/);
				assert.doesNotMatch(error.message, /timed? ?out/i);
				return true;
			});
			await sleep(3_000);

			server = await RedisServer.start(port);
			const back = Date.now();
			let answered: string | undefined;
			// Reconnect attempts are at most a second apart; the bound only keeps a bug from hanging.
			while (answered === undefined && Date.now() - back < 30_000) {
				answered = await store.admit('c', POLICY).catch(() => undefined);
				if (answered === undefined) await sleep(50);
			}
			// The restarted server keeps nothing, so the circuit is new to it again.
			assert.equal(answered, 'probe', 'the store is used again without a restart');
			await store.record('c', 'hard', POLICY);
			assert.deepEqual(await store.openCircuits(), ['c'], 'and writes reach it');
		} finally {
			await store.close();
			await server.stop();
		}
	});
});

describe('embedded store file', () => {
	it('deletes answers past their TTL, when opened and while in use, leaving none of their bytes', async () => {
		const file = join(mkdtempSync(join(tmpdir(), 'expiry-')), 'state.sqlite');
		const tenDaysAgo = Date.now() - 10 * DAY;
		const store = new SqliteStateStore(file);
		for (let i = 0; i < 1_000; i++) {
			const key = `answer-${i}`;
			await store.claim(key, 'run', 60_000, tenDaysAgo + i);
			await store.complete(key, 'run', `{"text":"MODEL ANSWER ${i}"}`, HOUR, tenDaysAgo + i);
		}
		// A fresh answer stays; the old ones go at the next write, 10 days on.
		await store.claim('fresh', 'run', 60_000);
		await store.complete('fresh', 'run', '{"text":"FRESH ANSWER"}', HOUR);
		const count = () => {
			const db = new DatabaseSync(file);
			try {
				return (db.prepare('SELECT COUNT(*) AS n FROM idempotency').get() as { n: number }).n;
			} finally {
				db.close();
			}
		};
		assert.equal(count(), 1, 'only the fresh answer is left');
		await store.close();
		const bytes = readFileSync(file).toString('latin1');
		assert.ok(!bytes.includes('MODEL ANSWER'), 'no expired answer left in the file');
		assert.ok(bytes.includes('FRESH ANSWER'));

		// Written by a process that stopped before deleting them: gone when the file is opened.
		const old = new SqliteStateStore(file);
		await old.claim('stale', 'run', 60_000, tenDaysAgo);
		await old.complete('stale', 'run', '{"text":"STALE"}', HOUR, tenDaysAgo);
		await old.close();
		assert.equal(count(), 2);
		await new SqliteStateStore(file).close();
		assert.equal(count(), 1);
	});

	it('is readable by its owner only, and a file left world-readable is tightened', async () => {
		const folder = mkdtempSync(join(tmpdir(), 'mode-'));
		const file = join(folder, 'state.sqlite');
		const store = new SqliteStateStore(file);
		await store.claim('k', 'a', 60_000);
		await store.complete('k', 'a', '{"text":"an answer"}', HOUR);
		const mode = (path: string) => statSync(path).mode & 0o777;
		assert.equal(mode(file), 0o600);
		assert.equal(mode(`${file}-wal`), 0o600, 'the write-ahead log holds answers too');
		await store.close();

		chmodSync(file, 0o644);
		await new SqliteStateStore(file).close();
		assert.equal(mode(file), 0o600);
	});

	it('locked by another process: the operation fails after a wait that never stops the event loop, and works once the lock is gone', async () => {
		const file = join(mkdtempSync(join(tmpdir(), 'locked-')), 'state.sqlite');
		const store = new SqliteStateStore(file);
		await store.claim('before', 'a', 60_000);
		// Another process takes the file's write lock and keeps it until told to let go.
		const holder = spawn(
			process.execPath,
			[
				'-e',
				`const db = new (require('node:sqlite').DatabaseSync)(${JSON.stringify(file)});
				db.exec('BEGIN EXCLUSIVE'); console.log('locked'); setInterval(() => {}, 1000);`,
			],
			{ stdio: ['ignore', 'pipe', 'ignore'] },
		);
		try {
			await new Promise((resolve) => holder.stdout.once('data', resolve));
			let ticks = 0;
			const ticker = setInterval(() => ticks++, 10);
			const started = Date.now();
			await assert.rejects(store.claim('during', 'a', 60_000), (error: Error) => {
				assert.match(error.message, /state\.sqlite is locked by another process \(waited 2 s\)/);
				return true;
			});
			clearInterval(ticker);
			assert.ok(Date.now() - started >= LOCK_WAIT_MS, 'it waited for the lock first');
			// With SQLite's own busy timeout the process would have been frozen: no tick at all.
			assert.ok(ticks > 10, `timers ran while it waited (${ticks} ticks)`);
			await assert.rejects(store.record('c', 'success', POLICY), /locked by another process/);
		} finally {
			const exited = new Promise((resolve) => holder.once('exit', resolve));
			// Killed, it lets go of the lock as a crashed process would.
			if (holder.exitCode === null) holder.kill('SIGKILL');
			await exited;
		}
		assert.deepEqual(await store.claim('after', 'a', 60_000), { status: 'claimed' });
		assert.equal((await store.claim('before', 'b', 60_000)).status, 'busy', 'what it held is kept');
		await store.close();
	});
});
