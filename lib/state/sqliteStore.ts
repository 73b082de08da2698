/**
 * The embedded state store: one SQLite file (Node's built-in node:sqlite, no native build),
 * right for one n8n instance. Each operation runs in a BEGIN IMMEDIATE transaction, so it is
 * atomic against other processes using the same file too.
 *
 * The file holds model answers: only its owner may read it (0600), and answers past their
 * TTL are deleted, with their bytes overwritten, when the store opens and, while it is in
 * use, once a minute.
 */
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';

import { admission, afterOutcome, rowOf, snapshotOf } from './breakerRules';
import type { BreakerRow } from './breakerRules';
import { countsOfTask, emptyCounters } from './types';
import type {
	Admission,
	BreakerOutcome,
	BreakerPolicy,
	BreakerSnapshot,
	Counters,
	IdempotencyClaim,
	MinuteCounts,
	StateStore,
	TaskOutcome,
} from './types';

/** 2: the breaker's failure-rate window (three columns added to `breaker`). */
const SCHEMA_VERSION = 2;
const WINDOW_COLUMNS = ['window_start', 'window_calls', 'window_failures'];
/**
 * How long an operation waits for another process's write lock before the store counts as
 * unavailable for it. The wait is asynchronous: node:sqlite is synchronous, and SQLite's own
 * busy timeout would stop n8n's whole process (every execution, every webhook) while it waits.
 */
export const LOCK_WAIT_MS = 2_000;
/** How often expired answers are deleted while the store is in use. */
const PURGE_EVERY_MS = 60_000;
const OWNER_ONLY = 0o600;

/**
 * The file readable by its owner only, with SQLite's -wal and -shm files (which SQLite
 * creates with the mode of the database file). A file from an older version is tightened.
 */
function ownerOnly(file: string): void {
	for (const path of [file, `${file}-wal`, `${file}-shm`]) {
		try {
			if (existsSync(path)) chmodSync(path, OWNER_ONLY);
		} catch {
			// Not ours to change (another user's file): SQLite still opens it if it may.
		}
	}
}

/**
 * Loads node:sqlite when an embedded store is first opened, not when n8n loads this package.
 * Node 24 marks the module experimental and says so on first load; that notice is about
 * Node's API, not a problem of the n8n it would land in, so only it is kept out of the log.
 */
function loadSqlite(): typeof import('node:sqlite') {
	const emitWarning = process.emitWarning;
	process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
		if (String(warning).includes('SQLite is an experimental feature')) return;
		(emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
	}) as typeof process.emitWarning;
	try {
		// eslint-disable-next-line @typescript-eslint/no-require-imports
		return require('node:sqlite') as typeof import('node:sqlite');
	} finally {
		process.emitWarning = emitWarning;
	}
}

/** SQLITE_BUSY: another connection holds the lock. */
function isBusy(error: unknown): boolean {
	const e = error as { errcode?: number; message?: string };
	return (e?.errcode ?? 0) % 256 === 5 || /database is locked|SQLITE_BUSY/i.test(e?.message ?? '');
}

export class StateStoreError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'StateStoreError';
	}
}

export class SqliteStateStore implements StateStore {
	private readonly db: DatabaseSync;
	/** When expired answers were last deleted (the caller's clock). */
	private lastPurge = Number.NEGATIVE_INFINITY;
	/** The connection's current synchronous setting (SQLite's default is FULL). */
	private synchronous: 'FULL' | 'NORMAL' = 'FULL';

	constructor(readonly file: string) {
		const existed = existsSync(file);
		try {
			const { DatabaseSync: Database } = loadSqlite();
			if (!existed) closeSync(openSync(file, 'a', OWNER_ONLY));
			this.db = new Database(file);
			// secure_delete: a deleted answer's bytes are overwritten, not left in free pages.
			this.db.exec(
				'PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA secure_delete = ON;',
			);
			const tables = this.db
				.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
				.all() as Array<{ name: string }>;
			const names = new Set(tables.map((t) => t.name));
			if (existed && names.size > 0 && !names.has('resilient_llm_meta')) {
				throw new StateStoreError(
					`${file} is a SQLite database of something else (tables: ${[...names].slice(0, 5).join(', ')}); point the state store at its own file`,
				);
			}
			ownerOnly(file);
			this.db.exec(`
				CREATE TABLE IF NOT EXISTS resilient_llm_meta (schema_version INTEGER NOT NULL);
				CREATE TABLE IF NOT EXISTS idempotency (
					key TEXT PRIMARY KEY, status TEXT NOT NULL, owner TEXT, lease_until INTEGER NOT NULL DEFAULT 0,
					result TEXT, expires_at INTEGER NOT NULL DEFAULT 0);
				CREATE TABLE IF NOT EXISTS breaker (
					circuit TEXT PRIMARY KEY, state TEXT NOT NULL, failures INTEGER NOT NULL DEFAULT 0,
					open_until INTEGER NOT NULL DEFAULT 0, probe_until INTEGER NOT NULL DEFAULT 0,
					window_start INTEGER NOT NULL DEFAULT 0, window_calls INTEGER NOT NULL DEFAULT 0,
					window_failures INTEGER NOT NULL DEFAULT 0);
				CREATE TABLE IF NOT EXISTS counters (
					workflow TEXT NOT NULL, minute INTEGER NOT NULL, tasks INTEGER NOT NULL DEFAULT 0,
					t1 INTEGER NOT NULL DEFAULT 0, t2 INTEGER NOT NULL DEFAULT 0, t3 INTEGER NOT NULL DEFAULT 0, t4 INTEGER NOT NULL DEFAULT 0,
					escalated INTEGER NOT NULL DEFAULT 0, cost_micros INTEGER NOT NULL DEFAULT 0,
					PRIMARY KEY (workflow, minute));
				CREATE TABLE IF NOT EXISTS workflow_names (workflow TEXT PRIMARY KEY, name TEXT NOT NULL);
			`);
			const meta = this.db.prepare('SELECT schema_version FROM resilient_llm_meta').get() as
				| { schema_version: number }
				| undefined;
			if (!meta)
				this.db
					.prepare('INSERT INTO resilient_llm_meta (schema_version) VALUES (?)')
					.run(SCHEMA_VERSION);
			else if (meta.schema_version > SCHEMA_VERSION) {
				throw new StateStoreError(
					`${file} was written by a newer version of n8n-nodes-resilient-llm (schema ${meta.schema_version})`,
				);
			} else if (meta.schema_version < SCHEMA_VERSION) this.migrate();
			// From here on a lock held elsewhere is waited for without blocking (see transaction()).
			this.db.exec('PRAGMA busy_timeout = 0');
			this.purgeOnOpen();
		} catch (error) {
			if (error instanceof StateStoreError) throw error;
			throw new StateStoreError(
				`cannot use ${file} as the Resilient LLM state store: ${(error as Error).message}`,
			);
		}
	}

	/**
	 * Deletes answers past their TTL and claims whose lease ran out (a claim treats both as
	 * free anyway), so the file does not keep answers nobody may be served any more.
	 */
	private purgeExpired(now: number): void {
		this.lastPurge = now;
		this.db
			.prepare(
				`DELETE FROM idempotency WHERE (status = 'done' AND expires_at <= ?) OR (status = 'processing' AND lease_until <= ?)`,
			)
			.run(now, now);
	}

	/** Within a write transaction: purges when the last purge is a minute old. */
	private purgeNowAndThen(now: number): void {
		if (!(Math.abs(now - this.lastPurge) < PURGE_EVERY_MS)) this.purgeExpired(now);
	}

	/** Expired answers go when the store opens; if another process holds the file, at the next write. */
	private purgeOnOpen(): void {
		if (this.tryBegin()) this.inTransaction(() => this.purgeExpired(Date.now()));
	}

	/** BEGIN IMMEDIATE: true once this connection holds the write lock, false while another does. */
	private tryBegin(): boolean {
		try {
			this.db.exec('BEGIN IMMEDIATE');
			return true;
		} catch (error) {
			if (isBusy(error)) return false;
			throw error;
		}
	}

	/**
	 * Runs `fn` in one write transaction: atomic against every other user of the file. While
	 * another process holds the lock, tries again on a timer, so n8n's event loop keeps
	 * turning, for up to LOCK_WAIT_MS. Nothing is awaited between BEGIN and COMMIT: other
	 * operations of this process share the connection.
	 *
	 * `durable`: the commit reaches the disk before it returns (SQLite's synchronous FULL), as
	 * stored answers and claims must. Breaker state is soft: it is rewritten by the next call,
	 * and a power cut that loses its last writes only means a circuit relearns. In WAL mode its
	 * commits still survive n8n crashing, and skipping their disk sync keeps the breaker, which
	 * every call goes through, off the hot path.
	 */
	private async transaction<T>(fn: () => T, durable = true): Promise<T> {
		const giveUpAt = Date.now() + LOCK_WAIT_MS;
		for (let pauseMs = 1; ; pauseMs = Math.min(pauseMs * 2, 50)) {
			// Set outside a transaction (SQLite refuses it inside), in the same turn as BEGIN.
			this.setDurable(durable);
			if (this.tryBegin()) return this.inTransaction(fn);
			if (Date.now() >= giveUpAt) {
				throw new StateStoreError(
					`${this.file} is locked by another process (waited ${LOCK_WAIT_MS / 1000} s)`,
				);
			}
			await new Promise((resolve) => setTimeout(resolve, pauseMs));
		}
	}

	private setDurable(durable: boolean): void {
		const synchronous = durable ? 'FULL' : 'NORMAL';
		if (this.synchronous === synchronous) return;
		this.db.exec(`PRAGMA synchronous = ${synchronous}`);
		this.synchronous = synchronous;
	}

	/** The body of a transaction begun by the caller: committed, or rolled back on error. */
	private inTransaction<T>(fn: () => T): T {
		try {
			const value = fn();
			this.db.exec('COMMIT');
			return value;
		} catch (error) {
			this.db.exec('ROLLBACK');
			throw error;
		}
	}

	async claim(
		key: string,
		owner: string,
		leaseMs: number,
		now = Date.now(),
	): Promise<IdempotencyClaim> {
		return this.transaction(() => {
			this.purgeNowAndThen(now);
			const row = this.db
				.prepare(
					'SELECT status, owner, lease_until, result, expires_at FROM idempotency WHERE key = ?',
				)
				.get(key) as
				| {
						status: string;
						owner: string;
						lease_until: number;
						result: string | null;
						expires_at: number;
				  }
				| undefined;
			if (row?.status === 'done' && row.expires_at > now && row.result !== null)
				return { status: 'done', result: row.result };
			if (row?.status === 'processing' && row.lease_until > now && row.owner !== owner)
				return { status: 'busy', leaseUntil: row.lease_until };
			// Free, expired, or a lease that ran out (its owner died): take it.
			this.db
				.prepare(
					`INSERT INTO idempotency (key, status, owner, lease_until, result, expires_at) VALUES (?, 'processing', ?, ?, NULL, 0)
					ON CONFLICT(key) DO UPDATE SET status = 'processing', owner = excluded.owner, lease_until = excluded.lease_until, result = NULL, expires_at = 0`,
				)
				.run(key, owner, now + leaseMs);
			return { status: 'claimed' };
		});
	}

	async complete(
		key: string,
		owner: string,
		result: string,
		ttlMs: number,
		now = Date.now(),
	): Promise<void> {
		await this.transaction(() => {
			// Whoever holds the lease: only an answer stored already (and not expired) stays.
			this.db
				.prepare(
					`INSERT INTO idempotency (key, status, owner, lease_until, result, expires_at) VALUES (?, 'done', ?, 0, ?, ?)
					ON CONFLICT(key) DO UPDATE SET status = 'done', owner = excluded.owner, lease_until = 0, result = excluded.result,
					expires_at = excluded.expires_at WHERE NOT (status = 'done' AND expires_at > ?)`,
				)
				.run(key, owner, result, now + ttlMs, now);
			this.purgeNowAndThen(now);
		});
	}

	async renew(key: string, owner: string, leaseMs: number, now = Date.now()): Promise<boolean> {
		return this.transaction(() => {
			const row = this.db
				.prepare('SELECT status, owner, expires_at FROM idempotency WHERE key = ?')
				.get(key) as { status: string; owner: string; expires_at: number } | undefined;
			const stored = row?.status === 'done' && row.expires_at > now;
			if (stored || (row?.status === 'processing' && row.owner !== owner)) return false;
			// A record that is gone (purged, or an answer past its TTL) is nobody's: the owner takes it.
			this.db
				.prepare(
					`INSERT INTO idempotency (key, status, owner, lease_until, result, expires_at) VALUES (?, 'processing', ?, ?, NULL, 0)
					ON CONFLICT(key) DO UPDATE SET status = 'processing', owner = excluded.owner, lease_until = excluded.lease_until,
					result = NULL, expires_at = 0`,
				)
				.run(key, owner, now + leaseMs);
			return true;
		});
	}

	async release(key: string, owner: string): Promise<void> {
		await this.transaction(() => {
			this.db
				.prepare(`DELETE FROM idempotency WHERE key = ? AND owner = ? AND status = 'processing'`)
				.run(key, owner);
		});
	}

	/** Brings a file written by an older version up to this schema; other processes wait. */
	private migrate(): void {
		this.db.exec('BEGIN IMMEDIATE');
		try {
			const columns = this.db.prepare('PRAGMA table_info(breaker)').all() as Array<{
				name: string;
			}>;
			const have = new Set(columns.map((c) => c.name));
			for (const column of WINDOW_COLUMNS)
				if (!have.has(column))
					this.db.exec(`ALTER TABLE breaker ADD COLUMN ${column} INTEGER NOT NULL DEFAULT 0`);
			this.db.prepare('UPDATE resilient_llm_meta SET schema_version = ?').run(SCHEMA_VERSION);
			this.db.exec('COMMIT');
		} catch (error) {
			this.db.exec('ROLLBACK');
			throw error;
		}
	}

	private breakerRow(circuit: string): BreakerRow {
		const row = this.db
			.prepare(
				`SELECT state, failures, open_until, probe_until, ${WINDOW_COLUMNS.join(', ')} FROM breaker WHERE circuit = ?`,
			)
			.get(circuit) as BreakerRow | undefined;
		return rowOf(row);
	}

	private saveBreaker(circuit: string, row: BreakerRow): void {
		this.db
			.prepare(
				`INSERT INTO breaker (circuit, state, failures, open_until, probe_until, window_start, window_calls, window_failures)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT(circuit) DO UPDATE SET state = excluded.state, failures = excluded.failures,
				open_until = excluded.open_until, probe_until = excluded.probe_until, window_start = excluded.window_start,
				window_calls = excluded.window_calls, window_failures = excluded.window_failures`,
			)
			.run(
				circuit,
				row.state,
				row.failures,
				row.open_until,
				row.probe_until,
				row.window_start,
				row.window_calls,
				row.window_failures,
			);
	}

	async admit(circuit: string, policy: BreakerPolicy, now = Date.now()): Promise<Admission> {
		return this.transaction(() => {
			const row = this.breakerRow(circuit);
			const decision = admission(row, policy, now);
			if (decision.changed) this.saveBreaker(circuit, decision.row);
			return decision.admission;
		}, false);
	}

	async record(
		circuit: string,
		outcome: BreakerOutcome,
		policy: BreakerPolicy,
		now = Date.now(),
	): Promise<void> {
		await this.transaction(() => {
			this.saveBreaker(circuit, afterOutcome(this.breakerRow(circuit), outcome, policy, now));
		}, false);
	}

	async snapshot(circuit: string, now = Date.now()): Promise<BreakerSnapshot> {
		return snapshotOf(this.breakerRow(circuit), now);
	}

	async openCircuits(now = Date.now()): Promise<string[]> {
		// The same rule as isOpen (breakerRules.ts), in SQL.
		const rows = this.db
			.prepare(
				`SELECT circuit FROM breaker WHERE (state = 'open' AND open_until > ?) OR (state = 'half_open' AND probe_until > ?) ORDER BY circuit`,
			)
			.all(now, now) as Array<{ circuit: string }>;
		return rows.map((r) => r.circuit);
	}

	async countTask(workflowId: string, outcome: TaskOutcome, now = Date.now()): Promise<void> {
		return this.addCounts([countsOfTask(workflowId, outcome, now)], now);
	}

	/** One transaction: all or nothing, so a failed write sent again adds its counts once (no `writeId` needed). */
	async addCounts(counts: MinuteCounts[], now = Date.now()): Promise<void> {
		if (counts.length === 0) return;
		await this.transaction(() => {
			const add = this.db.prepare(
				`INSERT INTO counters (workflow, minute, tasks, t1, t2, t3, t4, escalated, cost_micros) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT(workflow, minute) DO UPDATE SET tasks = tasks + excluded.tasks, t1 = t1 + excluded.t1, t2 = t2 + excluded.t2, t3 = t3 + excluded.t3,
				t4 = t4 + excluded.t4, escalated = escalated + excluded.escalated, cost_micros = cost_micros + excluded.cost_micros`,
			);
			const name = this.db.prepare(
				`INSERT INTO workflow_names (workflow, name) VALUES (?, ?)
				ON CONFLICT(workflow) DO UPDATE SET name = excluded.name`,
			);
			for (const c of counts) {
				add.run(c.workflowId, c.minute, c.tasks, ...c.answeredByTier, c.escalated, c.costMicros);
				if (c.workflowName) name.run(c.workflowId, c.workflowName);
			}
			// Counters older than a day are of no use to any window.
			this.db.prepare('DELETE FROM counters WHERE minute < ?').run(Math.floor(now / 60_000) - 1440);
		});
	}

	async readCounters(fromMs: number, toMs: number): Promise<Map<string, Counters>> {
		const rows = this.db
			.prepare(
				`SELECT c.workflow, SUM(tasks) tasks, SUM(t1) t1, SUM(t2) t2, SUM(t3) t3, SUM(t4) t4, SUM(escalated) escalated,
				SUM(cost_micros) cost, n.name
				FROM counters c LEFT JOIN workflow_names n ON n.workflow = c.workflow
				WHERE minute >= ? AND minute < ? GROUP BY c.workflow`,
			)
			.all(Math.floor(fromMs / 60_000), Math.ceil(toMs / 60_000)) as Array<
			Record<string, number> & { workflow: string; name: string | null }
		>;
		const totals = new Map<string, Counters>();
		for (const r of rows) {
			totals.set(r.workflow, {
				...emptyCounters(),
				tasks: r.tasks,
				answeredByTier: [r.t1, r.t2, r.t3, r.t4],
				escalated: r.escalated,
				costUsd: r.cost / 1e6,
				...(r.name ? { workflowName: r.name } : {}),
			});
		}
		return totals;
	}

	async close(): Promise<void> {
		this.db.close();
	}
}
