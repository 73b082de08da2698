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

	async reserveBudget(
		budget: string,
		period: string,
		request: BudgetRequest,
		ttlMs: number,
		now = Date.now(),
	): Promise<BudgetReservation> {
		// Durable: money spent must outlive a crash.
		return this.sqlite.transaction(() => {
			this.sqlite.db.prepare('DELETE FROM budgets WHERE expires_at <= ?').run(now);
			const row = this.row(budget, period, now);
			const cap = wholeMicros(request.capMicros);
			const reserved = reserveBudget(row, { ...request, capMicros: cap }, now);
			this.save(budget, period, row, now + ttlMs);
			return { reserved, ...budgetSnapshotOf(row, cap, now) };
		});
	}

	async settleBudget(
		budget: string,
		period: string,
		settlement: BudgetSettlement & { capMicros: number },
		ttlMs: number,
		now = Date.now(),
	): Promise<BudgetSnapshot> {
		return this.sqlite.transaction(() => {
			const row = this.row(budget, period, now);
			settleBudget(row, settlement, now);
			this.save(budget, period, row, now + ttlMs);
			return budgetSnapshotOf(row, wholeMicros(settlement.capMicros), now);
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
