/**
 * The Redis store's spend budgets: each reservation and settlement is one Lua script
 * (redisBudgetScripts.ts), atomic across workers, on a row that expires after its period.
 */
import { budgetRowOf, budgetSnapshotOf, wholeMicros } from './budgetRules';
import type { RedisConnection } from './redisConnection';
import type {
	BudgetRequest,
	BudgetReservation,
	BudgetSettlement,
	BudgetSnapshot,
	BudgetStore,
} from './types';

export class RedisBudgets implements BudgetStore {
	constructor(
		private readonly connection: RedisConnection,
		private readonly prefix: string,
	) {}

	/** Each part encoded: a budget's name may hold any character, the separator too. */
	private key(budget: string, period: string): string {
		return `${this.prefix}budget:${encodeURIComponent(budget)}:${encodeURIComponent(period)}`;
	}

	async reserveBudget(
		budget: string,
		period: string,
		request: BudgetRequest,
		ttlMs: number,
		now = Date.now(),
	): Promise<BudgetReservation> {
		const [reserved, spent, held] = await this.connection.named(() =>
			this.connection.redis.rllmReserveBudget(
				this.key(budget, period),
				now,
				request.id,
				wholeMicros(request.micros),
				wholeMicros(request.capMicros),
				Math.max(1, Math.round(request.leaseMs)),
				Math.max(1, Math.round(ttlMs)),
			),
		);
		return { reserved: reserved === 1, ...snapshotOfSums(spent, held, request.capMicros) };
	}

	async settleBudget(
		budget: string,
		period: string,
		settlement: BudgetSettlement & { capMicros: number },
		ttlMs: number,
		now = Date.now(),
	): Promise<BudgetSnapshot> {
		const [spent, held] = await this.connection.named(() =>
			this.connection.redis.rllmSettleBudget(
				this.key(budget, period),
				now,
				settlement.id,
				wholeMicros(settlement.actualMicros),
				Math.max(1, Math.round(ttlMs)),
			),
		);
		return snapshotOfSums(spent, held, settlement.capMicros);
	}

	async budgetSnapshot(
		budget: string,
		period: string,
		capMicros: number,
		now = Date.now(),
	): Promise<BudgetSnapshot> {
		const raw = await this.connection.named(() =>
			this.connection.redis.get(this.key(budget, period)),
		);
		return budgetSnapshotOf(budgetRowOf(raw ? JSON.parse(raw) : undefined), capMicros, now);
	}
}

/** A budget's sums as a script returned them, with what is left of the cap. */
function snapshotOfSums(spent: number, held: number, capMicros: number): BudgetSnapshot {
	const spentMicros = Number(spent);
	const heldMicros = Number(held);
	return {
		spentMicros,
		heldMicros,
		remainingMicros: Math.max(0, wholeMicros(capMicros) - spentMicros - heldMicros),
	};
}
