/**
 * The Redis store's spend budgets: each reservation and settlement is one Lua script
 * (redisBudgetScripts.ts), atomic across workers, on a row that expires after its period.
 */
import { entryOf } from './budgetRegistry';
import type { BudgetLabel, BudgetUse } from './budgetRegistry';
import { budgetRowOf, budgetSnapshotOf, wholeMicros } from './budgetRules';
import { globPrefix } from './redisConnection';
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
	private key(budget: string, period: string, kind = 'budget'): string {
		return `${this.prefix}${kind}:${encodeURIComponent(budget)}:${encodeURIComponent(period)}`;
	}

	private entryKey(budget: string, period: string): string {
		return this.key(budget, period, 'budget-entry');
	}

	async reserveBudget(
		budget: string,
		period: string,
		request: BudgetRequest & { label?: BudgetLabel },
		ttlMs: number,
		now = Date.now(),
	): Promise<BudgetReservation> {
		const [reserved, spent, held] = await this.connection.named(() =>
			this.connection.redis.rllmReserveBudget(
				this.key(budget, period),
				this.entryKey(budget, period),
				now,
				request.id,
				wholeMicros(request.micros),
				wholeMicros(request.capMicros),
				Math.max(1, Math.round(request.leaseMs)),
				Math.max(1, Math.round(ttlMs)),
				request.label ? JSON.stringify(request.label) : '',
			),
		);
		return { reserved: reserved === 1, ...snapshotOfSums(spent, held, request.capMicros) };
	}

	async settleBudget(
		budget: string,
		period: string,
		settlement: BudgetSettlement & { capMicros: number; label?: BudgetLabel },
		ttlMs: number,
		now = Date.now(),
	): Promise<BudgetSnapshot> {
		const [spent, held] = await this.connection.named(() =>
			this.connection.redis.rllmSettleBudget(
				this.key(budget, period),
				this.entryKey(budget, period),
				now,
				settlement.id,
				wholeMicros(settlement.actualMicros),
				Math.max(1, Math.round(ttlMs)),
				wholeMicros(settlement.capMicros),
				settlement.label ? JSON.stringify(settlement.label) : '',
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

	async listBudgets(now = Date.now()): Promise<BudgetUse[]> {
		return this.connection.named(() => listBudgetsOf(this.connection, this.prefix, now));
	}

	/** Redis expires the mark by its own clock. */
	async markBudgetAnnounced(
		consumer: string,
		budget: string,
		period: string,
		mark: string,
		ttlMs: number,
	): Promise<boolean> {
		const key = `${this.key(budget, period, 'budget-announced')}:${encodeURIComponent(consumer)}:${encodeURIComponent(mark)}`;
		const set = await this.connection.named(() =>
			this.connection.redis.set(key, '1', 'PX', Math.max(1, Math.round(ttlMs)), 'NX'),
		);
		return set === 'OK';
	}
}

/** The registry's entries, with each period's spend: a SCAN, then one pipeline for their rows. */
async function listBudgetsOf(
	connection: RedisConnection,
	prefix: string,
	now: number,
): Promise<BudgetUse[]> {
	const redis = connection.redis;
	const literal = `${prefix}budget-entry:`;
	const keys: string[] = [];
	let cursor = '0';
	do {
		const [next, found] = await redis.scan(
			cursor,
			'MATCH',
			`${globPrefix(literal)}*`,
			'COUNT',
			200,
		);
		cursor = next;
		keys.push(...found.filter((key) => key.startsWith(literal)));
	} while (cursor !== '0');
	if (keys.length === 0) return [];
	const pipeline = redis.pipeline();
	for (const key of keys) {
		const [budget, period] = key.slice(literal.length).split(':');
		pipeline.get(key).pttl(key).get(`${prefix}budget:${budget}:${period}`);
	}
	const replies = ((await pipeline.exec()) ?? []).map(([error, value]) => {
		if (error) throw error;
		return value;
	});
	const uses: BudgetUse[] = [];
	keys.forEach((key, i) => {
		const [raw, ttl, row] = replies.slice(3 * i, 3 * i + 3) as [
			string | null,
			number,
			string | null,
		];
		const entry = entryOf(raw ? JSON.parse(raw) : undefined);
		if (!entry || ttl <= 0) return;
		const [budget, period] = key.slice(literal.length).split(':').map(decodeURIComponent);
		const spentMicros = budgetRowOf(row ? JSON.parse(row) : undefined).spentMicros;
		uses.push({ ...entry, budget, period, spentMicros, expiresAt: now + ttl });
	});
	// In the embedded store's order: by budget, then period, as plain strings.
	const order = (u: BudgetUse) => `${u.budget}\u0000${u.period}`;
	return uses.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
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
