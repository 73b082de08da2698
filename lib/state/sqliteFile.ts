/**
 * The SQLite file behind the embedded state store: opening it (node:sqlite, no native build),
 * its schema and migrations, and write transactions that are atomic against other processes
 * using the same file too (BEGIN IMMEDIATE), without blocking n8n while another holds the lock.
 *
 * The file holds model answers: only its owner may read it (0600).
 */
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import type { DatabaseSync } from 'node:sqlite';

/** 2: the breaker's failure-rate window (three columns added to `breaker`). */
const SCHEMA_VERSION = 2;
export const WINDOW_COLUMNS = ['window_start', 'window_calls', 'window_failures'];
/**
 * How long an operation waits for another process's write lock before the store counts as
 * unavailable for it. The wait is asynchronous: node:sqlite is synchronous, and SQLite's own
 * busy timeout would stop n8n's whole process (every execution, every webhook) while it waits.
 */
export const LOCK_WAIT_MS = 2_000;
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

const SCHEMA = `
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
	CREATE TABLE IF NOT EXISTS pacing (circuit TEXT PRIMARY KEY, row TEXT NOT NULL);
	CREATE TABLE IF NOT EXISTS budgets (
		budget TEXT NOT NULL, period TEXT NOT NULL, row TEXT NOT NULL, expires_at INTEGER NOT NULL,
		PRIMARY KEY (budget, period));
	CREATE TABLE IF NOT EXISTS counter_models (
		workflow TEXT NOT NULL, minute INTEGER NOT NULL, model TEXT NOT NULL, cost_micros INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (workflow, minute, model));
	CREATE TABLE IF NOT EXISTS budget_registry (
		budget TEXT NOT NULL, period TEXT NOT NULL, entry TEXT NOT NULL, expires_at INTEGER NOT NULL,
		PRIMARY KEY (budget, period));
	CREATE TABLE IF NOT EXISTS budget_announced (
		consumer TEXT NOT NULL, budget TEXT NOT NULL, period TEXT NOT NULL, mark TEXT NOT NULL,
		expires_at INTEGER NOT NULL, PRIMARY KEY (consumer, budget, period, mark));
`;

export class SqliteFile {
	readonly db: DatabaseSync;
	/** The connection's current synchronous setting (SQLite's default is FULL). */
	private synchronous: 'FULL' | 'NORMAL' = 'FULL';

	/** Opens (or creates) the file; `onOpen` runs once it is ready, its failures reported as the file's. */
	constructor(
		readonly file: string,
		onOpen: (opened: SqliteFile) => void = () => {},
	) {
		const existed = existsSync(file);
		try {
			const { DatabaseSync: Database } = loadSqlite();
			if (!existed) closeSync(openSync(file, 'a', OWNER_ONLY));
			this.db = new Database(file);
			// secure_delete: a deleted answer's bytes are overwritten, not left in free pages.
			this.db.exec(
				'PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA secure_delete = ON;',
			);
			this.refuseForeign(existed);
			ownerOnly(file);
			this.db.exec(SCHEMA);
			this.upToSchema();
			// From here on a lock held elsewhere is waited for without blocking (see transaction()).
			this.db.exec('PRAGMA busy_timeout = 0');
			onOpen(this);
		} catch (error) {
			if (error instanceof StateStoreError) throw error;
			throw new StateStoreError(
				`cannot use ${file} as the Resilient LLM state store: ${(error as Error).message}`,
			);
		}
	}

	/** A file with tables of its own and none of ours is another application's database. */
	private refuseForeign(existed: boolean): void {
		const tables = this.db
			.prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
			.all() as Array<{ name: string }>;
		const names = new Set(tables.map((t) => t.name));
		if (existed && names.size > 0 && !names.has('resilient_llm_meta')) {
			throw new StateStoreError(
				`${this.file} is a SQLite database of something else (tables: ${[...names].slice(0, 5).join(', ')}); point the state store at its own file`,
			);
		}
	}

	private upToSchema(): void {
		const meta = this.db.prepare('SELECT schema_version FROM resilient_llm_meta').get() as
			| { schema_version: number }
			| undefined;
		if (!meta)
			this.db
				.prepare('INSERT INTO resilient_llm_meta (schema_version) VALUES (?)')
				.run(SCHEMA_VERSION);
		else if (meta.schema_version > SCHEMA_VERSION) {
			throw new StateStoreError(
				`${this.file} was written by a newer version of n8n-nodes-resilient-llm (schema ${meta.schema_version})`,
			);
		} else if (meta.schema_version < SCHEMA_VERSION) this.migrate();
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
	async transaction<T>(fn: () => T, durable = true): Promise<T> {
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

	/** Runs `fn` in a write transaction if no other process holds the lock now; else not at all. */
	tryTransaction(fn: () => void): void {
		if (this.tryBegin()) this.inTransaction(fn);
	}

	close(): void {
		this.db.close();
	}
}
