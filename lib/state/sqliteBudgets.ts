/**
 * The embedded store's spend budgets: each reservation and settlement is one write
 * transaction on the file, atomic against every other process using it, applying
 * budgetRules.ts. Rows past their period's end are deleted as reservations go.
 */
import {
	budgetRowOf,
	budgetSnapshotOf,
	reserveBudget,
	settleBudget,
	wholeMicros,
} from './budgetRules';
import type { BudgetRow } from './budgetRules';
import { entryAfter, entryOf } from './budgetRegistry';
import type { BudgetLabel, BudgetUse } from './budgetRegistry';
import type { SqliteFile } from './sqliteFile';
import type {
	BudgetRequest,
	BudgetReservation,
	BudgetSettlement,
	BudgetSnapshot,
	BudgetStore,
} from './types';

export class SqliteBudgets implements BudgetStore {
	constructor(private readonly sqlite: SqliteFile) {}

	private row(budget: string, period: string, now: number): BudgetRow {
		const stored = this.sqlite.db
			.prepare('SELECT row, expires_at FROM budgets WHERE budget = ? AND period = ?')
			.get(budget, period) as { row: string; expires_at: number } | undefined;
		return budgetRowOf(stored && stored.expires_at > now ? JSON.parse(stored.row) : undefined);
	}

	private save(budget: string, period: string, row: BudgetRow, expiresAt: number): void {
		this.sqlite.db
			.prepare(
				`INSERT INTO budgets (budget, period, row, expires_at) VALUES (?, ?, ?, ?)
				ON CONFLICT(budget, period) DO UPDATE SET row = excluded.row, expires_at = excluded.expires_at`,
			)
			.run(budget, period, JSON.stringify(row), expiresAt);
	}

	/** Enters the budget's period in the registry, in the caller's transaction. */
	private register(
		budget: string,
		period: string,
		label: BudgetLabel | undefined,
		capMicros: number,
		turnedAway: boolean,
		expiresAt: number,
	): void {
		if (!label) return;
		const db = this.sqlite.db;
		const stored = db
			.prepare('SELECT entry FROM budget_registry WHERE budget = ? AND period = ?')
			.get(budget, period) as { entry: string } | undefined;
		const entry = entryAfter(stored && JSON.parse(stored.entry), label, capMicros, turnedAway);
		db.prepare(
			`INSERT INTO budget_registry (budget, period, entry, expires_at) VALUES (?, ?, ?, ?)
			ON CONFLICT(budget, period) DO UPDATE SET entry = excluded.entry, expires_at = excluded.expires_at`,
		).run(budget, period, JSON.stringify(entry), expiresAt);
	}

	async reserveBudget(
		budget: string,
		period: string,
		request: BudgetRequest & { label?: BudgetLabel },
		ttlMs: number,
		now = Date.now(),
	): Promise<BudgetReservation> {
		// Durable: money spent must outlive a crash.
		return this.sqlite.transaction(() => {
			const db = this.sqlite.db;
			for (const table of ['budgets', 'budget_registry', 'budget_announced'])
				db.prepare(`DELETE FROM ${table} WHERE expires_at <= ?`).run(now);
			const row = this.row(budget, period, now);
			const cap = wholeMicros(request.capMicros);
			const { label, ...call } = request;
			const reserved = reserveBudget(row, { ...call, capMicros: cap }, now);
			this.save(budget, period, row, now + ttlMs);
			if (!reserved) this.register(budget, period, label, cap, true, now + ttlMs);
			return { reserved, ...budgetSnapshotOf(row, cap, now) };
		});
	}

	async settleBudget(
		budget: string,
		period: string,
		settlement: BudgetSettlement & { capMicros: number; label?: BudgetLabel },
		ttlMs: number,
		now = Date.now(),
	): Promise<BudgetSnapshot> {
		return this.sqlite.transaction(() => {
			const row = this.row(budget, period, now);
			const cap = wholeMicros(settlement.capMicros);
			settleBudget(row, settlement, now);
			this.save(budget, period, row, now + ttlMs);
			this.register(budget, period, settlement.label, cap, false, now + ttlMs);
			return budgetSnapshotOf(row, cap, now);
		});
	}

	async listBudgets(now = Date.now()): Promise<BudgetUse[]> {
		const rows = this.sqlite.db
			.prepare(
				`SELECT r.budget, r.period, r.entry, r.expires_at, b.row, b.expires_at AS row_expires_at
				FROM budget_registry r LEFT JOIN budgets b ON b.budget = r.budget AND b.period = r.period
				WHERE r.expires_at > ? ORDER BY r.budget, r.period`,
			)
			.all(now) as Array<{
			budget: string;
			period: string;
			entry: string;
			expires_at: number;
			row: string | null;
			row_expires_at: number | null;
		}>;
		const uses: BudgetUse[] = [];
		for (const r of rows) {
			const entry = entryOf(JSON.parse(r.entry));
			if (!entry) continue;
			const live = r.row !== null && (r.row_expires_at ?? 0) > now;
			const spentMicros = budgetRowOf(live ? JSON.parse(r.row as string) : undefined).spentMicros;
			uses.push({
				...entry,
				budget: r.budget,
				period: r.period,
				spentMicros,
				expiresAt: r.expires_at,
			});
		}
		return uses;
	}

	async markBudgetAnnounced(
		consumer: string,
		budget: string,
		period: string,
		mark: string,
		ttlMs: number,
		now = Date.now(),
	): Promise<boolean> {
		return this.sqlite.transaction(() => {
			const added = this.sqlite.db
				.prepare(
					`INSERT INTO budget_announced (consumer, budget, period, mark, expires_at) VALUES (?, ?, ?, ?, ?)
					ON CONFLICT DO UPDATE SET expires_at = excluded.expires_at WHERE expires_at <= ?`,
				)
				.run(consumer, budget, period, mark, now + Math.max(1, ttlMs), now);
			return Number(added.changes) === 1;
		});
	}

	async budgetSnapshot(
		budget: string,
		period: string,
		capMicros: number,
		now = Date.now(),
	): Promise<BudgetSnapshot> {
		return budgetSnapshotOf(this.row(budget, period, now), wholeMicros(capMicros), now);
	}
}
