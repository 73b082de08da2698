/**
 * The shared state store on Redis, for n8n's queue mode and several instances. Each
 * operation is one Lua script (redisScripts.ts) that reads, decides with the same rules as
 * the embedded store and writes inside Redis: atomic across workers, and one round trip.
 * Operations of one process share its connection (redisConnection.ts) concurrently
 * (pipelined), so a burst of breaker checks takes about one round trip, not one each.
 */
import { FIRST_CALL_HOLD_MS, isOpen, rowOf, snapshotOf } from './breakerRules';
import type { BreakerRow } from './breakerRules';
import { paceRowOf, paceSnapshotOf } from './pacingRules';
import { RedisBudgets } from './redisBudgets';
import { RedisCounters } from './redisCounters';
import { DEFAULT_PREFIX, globPrefix, RedisConnection } from './redisConnection';
import type { RedisSettings, ScriptedRedis } from './redisConnection';
import { StateStoreUnavailableError, countsOfTask } from './types';
import type {
	Admission,
	BreakerOutcome,
	BreakerPolicy,
	BreakerSnapshot,
	BudgetStore,
	CounterStore,
	IdempotencyClaim,
	PaceOutcome,
	PaceRequest,
	PaceSnapshot,
	StateStore,
	TaskOutcome,
} from './types';

export { DEFAULT_PREFIX, globPrefix } from './redisConnection';
export type { RedisSettings } from './redisConnection';
export { StateStoreUnavailableError };

export class RedisStateStore implements StateStore {
	private readonly connection: RedisConnection;
	private readonly prefix: string;
	private readonly budgets: RedisBudgets;
	private readonly counters: RedisCounters;

	constructor(settings: RedisSettings) {
		this.prefix = settings.prefix || DEFAULT_PREFIX;
		this.connection = new RedisConnection(settings);
		this.budgets = new RedisBudgets(this.connection, this.prefix);
		this.counters = new RedisCounters(this.connection, this.prefix);
	}

	private get redis(): ScriptedRedis {
		return this.connection.redis;
	}

	/**
	 * Connects for the first time. A Redis that cannot be reached now is given up (the caller
	 * tries a new store next time) rather than retried in the background forever.
	 */
	connect(): Promise<void> {
		return this.connection.connect();
	}

	/** False once closed for good; while it reconnects it stays usable. */
	get usable(): boolean {
		return this.connection.usable;
	}

	/** Every operation's failure names the server, not just ioredis's words. */
	private named<T>(operation: () => Promise<T>): Promise<T> {
		return this.connection.named(operation);
	}

	private idemKey(key: string): string {
		return `${this.prefix}idem:${key}`;
	}

	async claim(
		key: string,
		owner: string,
		leaseMs: number,
		now = Date.now(),
	): Promise<IdempotencyClaim> {
		const [status, value] = await this.named(() =>
			this.redis.rllmClaim(this.idemKey(key), owner, Math.round(leaseMs), now),
		);
		if (status === 'done') return { status: 'done', result: String(value) };
		if (status === 'busy') return { status: 'busy', leaseUntil: Number(value) };
		return { status: 'claimed' };
	}

	async renew(key: string, owner: string, leaseMs: number, now = Date.now()): Promise<boolean> {
		const renewed = await this.named(() =>
			this.redis.rllmRenew(this.idemKey(key), owner, Math.round(leaseMs), now),
		);
		return renewed === 1;
	}

	async complete(
		key: string,
		owner: string,
		result: string,
		ttlMs: number,
		now = Date.now(),
	): Promise<void> {
		await this.named(() =>
			this.redis.rllmComplete(
				this.idemKey(key),
				owner,
				result,
				Math.max(1, Math.round(ttlMs)),
				now,
			),
		);
	}

	async release(key: string, owner: string): Promise<void> {
		await this.named(() => this.redis.rllmRelease(this.idemKey(key), owner));
	}

	async admit(circuit: string, policy: BreakerPolicy, now = Date.now()): Promise<Admission> {
		return this.named(() =>
			this.redis.rllmAdmit(
				`${this.prefix}breaker:${circuit}`,
				now,
				policy.probeLeaseMs,
				FIRST_CALL_HOLD_MS,
			),
		);
	}

	async record(
		circuit: string,
		outcome: BreakerOutcome,
		policy: BreakerPolicy,
		now = Date.now(),
	): Promise<void> {
		await this.named(() =>
			this.redis.rllmRecord(
				`${this.prefix}breaker:${circuit}`,
				outcome,
				now,
				policy.failureThreshold,
				policy.openMs,
				policy.longOpenMs,
				policy.failureRate,
				policy.rateWindowMs,
				policy.rateMinCalls,
			),
		);
	}

	async snapshot(circuit: string, now = Date.now()): Promise<BreakerSnapshot> {
		const raw = await this.named(() => this.redis.get(`${this.prefix}breaker:${circuit}`));
		return snapshotOf(rowOf(raw ? (JSON.parse(raw) as BreakerRow) : undefined), now);
	}

	private paceKey(circuit: string): string {
		return `${this.prefix}pace:${circuit}`;
	}

	async acquirePace(circuit: string, request: PaceRequest, now = Date.now()): Promise<number> {
		const waitMs = await this.named(() =>
			this.redis.rllmAcquirePace(
				this.paceKey(circuit),
				now,
				request.id,
				Math.max(0, Math.round(request.tokens)),
				Math.max(1, Math.round(request.leaseMs)),
			),
		);
		return Number(waitMs);
	}

	async settlePace(circuit: string, outcome: PaceOutcome, now = Date.now()): Promise<void> {
		const limitArgs = (limit: PaceOutcome['requests']) =>
			limit
				? [String(limit.limit ?? ''), String(limit.remaining), String(limit.resetMs)]
				: ['', '', ''];
		await this.named(() =>
			this.redis.rllmSettlePace(
				this.paceKey(circuit),
				now,
				outcome.id,
				outcome.result,
				...limitArgs(outcome.requests),
				...limitArgs(outcome.tokens),
				String(outcome.retryAfterMs ?? ''),
			),
		);
	}

	async paceSnapshot(circuit: string, now = Date.now()): Promise<PaceSnapshot> {
		const raw = await this.named(() => this.redis.get(this.paceKey(circuit)));
		return paceSnapshotOf(paceRowOf(raw ? JSON.parse(raw) : undefined), now);
	}

	reserveBudget: BudgetStore['reserveBudget'] = (...args) => this.budgets.reserveBudget(...args);

	settleBudget: BudgetStore['settleBudget'] = (...args) => this.budgets.settleBudget(...args);

	budgetSnapshot: BudgetStore['budgetSnapshot'] = (...args) => this.budgets.budgetSnapshot(...args);

	listBudgets: BudgetStore['listBudgets'] = (...args) => this.budgets.listBudgets(...args);

	markBudgetAnnounced: BudgetStore['markBudgetAnnounced'] = (consumer, budget, period, mark, ttl) =>
		this.budgets.markBudgetAnnounced(consumer, budget, period, mark, ttl);

	async openCircuits(now = Date.now()): Promise<string[]> {
		const literal = `${this.prefix}breaker:`;
		return this.named(async () => {
			const circuits: string[] = [];
			let cursor = '0';
			do {
				const [next, keys] = await this.redis.scan(
					cursor,
					'MATCH',
					`${globPrefix(literal)}*`,
					'COUNT',
					200,
				);
				cursor = next;
				const rows = keys.length > 0 ? await this.redis.mget(...keys) : [];
				keys.forEach((key, i) => {
					const raw = rows[i];
					if (key.startsWith(literal) && raw && isOpen(rowOf(JSON.parse(raw) as BreakerRow), now))
						circuits.push(key.slice(literal.length));
				});
			} while (cursor !== '0');
			return circuits.sort();
		});
	}

	async countTask(workflowId: string, outcome: TaskOutcome, now = Date.now()): Promise<void> {
		return this.counters.addCounts([countsOfTask(workflowId, outcome, now)]);
	}

	addCounts: CounterStore['addCounts'] = (counts, _now, writeId) =>
		this.counters.addCounts(counts, writeId);

	readCounters: CounterStore['readCounters'] = (...args) => this.counters.readCounters(...args);

	async close(): Promise<void> {
		this.redis.disconnect();
	}
}
