/**
 * The embedded state store: one SQLite file (sqliteFile.ts), right for one n8n instance. Each
 * operation runs in one write transaction, so it is atomic against other processes using the
 * same file too.
 *
 * The file holds model answers: answers past their TTL are deleted, with their bytes
 * overwritten, when the store opens and, while it is in use, once a minute.
 */
import type { DatabaseSync } from 'node:sqlite';

import { admission, afterOutcome, rowOf, snapshotOf } from './breakerRules';
import type { BreakerRow } from './breakerRules';
import { SqliteBudgets } from './sqliteBudgets';
import { SqliteCounters } from './sqliteCounters';
import { SqliteFile, WINDOW_COLUMNS } from './sqliteFile';
import { SqlitePacing } from './sqlitePacing';
import type {
	Admission,
	BreakerOutcome,
	BreakerPolicy,
	BreakerSnapshot,
	BudgetStore,
	CounterStore,
	IdempotencyClaim,
	PacingStore,
	StateStore,
} from './types';

export { LOCK_WAIT_MS, StateStoreError } from './sqliteFile';

/** How often expired answers are deleted while the store is in use. */
const PURGE_EVERY_MS = 60_000;

export class SqliteStateStore implements StateStore {
	private readonly sqlite: SqliteFile;
	private readonly budgets: SqliteBudgets;
	private readonly paces: SqlitePacing;
	private readonly counters: SqliteCounters;
	/** When expired answers were last deleted (the caller's clock). */
	private lastPurge = Number.NEGATIVE_INFINITY;

	constructor(readonly file: string) {
		// Expired answers go when the store opens; if another process holds the file, at the next write.
		this.sqlite = new SqliteFile(file, (opened) =>
			opened.tryTransaction(() => this.purgeExpired(opened, Date.now())),
		);
		this.budgets = new SqliteBudgets(this.sqlite);
		this.paces = new SqlitePacing(this.sqlite);
		this.counters = new SqliteCounters(this.sqlite);
	}

	private get db(): DatabaseSync {
		return this.sqlite.db;
	}

	private transaction<T>(fn: () => T, durable = true): Promise<T> {
		return this.sqlite.transaction(fn, durable);
	}

	/**
	 * Deletes answers past their TTL and claims whose lease ran out (a claim treats both as
	 * free anyway), so the file does not keep answers nobody may be served any more.
	 */
	private purgeExpired(sqlite: SqliteFile, now: number): void {
		this.lastPurge = now;
		sqlite.db
			.prepare(
				`DELETE FROM idempotency WHERE (status = 'done' AND expires_at <= ?) OR (status = 'processing' AND lease_until <= ?)`,
			)
			.run(now, now);
	}

	/** Within a write transaction: purges when the last purge is a minute old. */
	private purgeNowAndThen(now: number): void {
		if (!(Math.abs(now - this.lastPurge) < PURGE_EVERY_MS)) this.purgeExpired(this.sqlite, now);
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

	countTask: CounterStore['countTask'] = (...args) => this.counters.countTask(...args);

	addCounts: CounterStore['addCounts'] = (counts, now) => this.counters.addCounts(counts, now);

	readCounters: CounterStore['readCounters'] = (...args) => this.counters.readCounters(...args);

	acquirePace: PacingStore['acquirePace'] = (...args) => this.paces.acquirePace(...args);

	settlePace: PacingStore['settlePace'] = (...args) => this.paces.settlePace(...args);

	paceSnapshot: PacingStore['paceSnapshot'] = (...args) => this.paces.paceSnapshot(...args);

	reserveBudget: BudgetStore['reserveBudget'] = (...args) => this.budgets.reserveBudget(...args);

	settleBudget: BudgetStore['settleBudget'] = (...args) => this.budgets.settleBudget(...args);

	budgetSnapshot: BudgetStore['budgetSnapshot'] = (...args) => this.budgets.budgetSnapshot(...args);

	listBudgets: BudgetStore['listBudgets'] = (...args) => this.budgets.listBudgets(...args);

	markBudgetAnnounced: BudgetStore['markBudgetAnnounced'] = (...args) =>
		this.budgets.markBudgetAnnounced(...args);

	async close(): Promise<void> {
		this.sqlite.close();
	}
}
