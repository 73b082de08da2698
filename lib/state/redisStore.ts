/**
 * The shared state store on Redis, for n8n's queue mode and several instances. Each
 * operation is an optimistic transaction (WATCH, read, decide with the same rules as the
 * embedded store, MULTI/EXEC, retry on conflict): atomic across workers.
 *
 * Once connected, the client reconnects for as long as the process lives, with a capped
 * backoff: a Redis restart needs no n8n restart. While it is away every command fails at
 * once (no offline queue) or after the per-command timeout, never hangs a task.
 */
import Redis from 'ioredis';

import { admission, afterOutcome, isOpen, rowOf, snapshotOf } from './breakerRules';
import type { BreakerRow } from './breakerRules';
import { StateStoreUnavailableError, countsOfTask, emptyCounters } from './types';
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

export interface RedisSettings {
	host: string;
	port: number;
	password?: string;
	user?: string;
	database?: number;
	ssl?: boolean;
	/** Key prefix, so several installations can share one Redis. */
	prefix?: string;
}

export const DEFAULT_PREFIX = 'resilient-llm:';

/** The longest wait between two reconnection attempts: Redis back means in use again within about this. */
export const MAX_RECONNECT_DELAY_MS = 1_000;
/** No command waits longer than this for Redis, so a hung server never hangs a task. */
export const COMMAND_TIMEOUT_MS = 2_000;

interface IdemRecord {
	status: 'processing' | 'done';
	owner: string;
	leaseUntil: number;
	result?: string;
	expiresAt: number;
}

const MAX_CONFLICT_RETRIES = 20;

export { StateStoreUnavailableError };

export class RedisStateStore implements StateStore {
	private readonly redis: Redis;
	private readonly prefix: string;
	/** WATCH is per connection: this client's transactions run one at a time. */
	private queue: Promise<unknown> = Promise.resolve();

	constructor(settings: RedisSettings) {
		this.prefix = settings.prefix || DEFAULT_PREFIX;
		this.redis = new Redis({
			host: settings.host,
			port: settings.port,
			password: settings.password || undefined,
			username: settings.user || undefined,
			db: settings.database ?? 0,
			...(settings.ssl ? { tls: {} } : {}),
			// Fail fast instead of queueing commands while Redis is unreachable: never hang a task.
			lazyConnect: true,
			connectTimeout: COMMAND_TIMEOUT_MS,
			commandTimeout: COMMAND_TIMEOUT_MS,
			maxRetriesPerRequest: 0,
			autoResendUnfulfilledCommands: false,
			enableOfflineQueue: false,
			// Never give up: 100, 200, 400, 800 ms, then once a second until Redis is back.
			retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 5), MAX_RECONNECT_DELAY_MS),
		});
		this.redis.on('error', () => undefined); // surfaced per command instead
	}

	private get where(): string {
		return `Redis at ${this.redis.options.host}:${this.redis.options.port}`;
	}

	/**
	 * Connects for the first time. A Redis that cannot be reached now is given up (the caller
	 * tries a new store next time) rather than retried in the background forever.
	 */
	async connect(): Promise<void> {
		try {
			if (this.redis.status === 'wait') await this.redis.connect();
			await this.redis.ping();
		} catch (error) {
			this.redis.disconnect();
			throw new StateStoreUnavailableError(
				`${this.where} is unreachable: ${(error as Error).message}`,
			);
		}
	}

	/** False once closed for good; while it reconnects it stays usable. */
	get usable(): boolean {
		return this.redis.status !== 'end';
	}

	/** Every operation's failure names the server, not just ioredis's words. */
	private async named<T>(operation: () => Promise<T>): Promise<T> {
		try {
			return await operation();
		} catch (error) {
			if (error instanceof StateStoreUnavailableError) throw error;
			throw new StateStoreUnavailableError(
				`${this.where} is unavailable: ${(error as Error).message}`,
			);
		}
	}

	/** WATCH key, read it, let `decide` write, EXEC; retried when another client changed the key. */
	private transact<T>(
		key: string,
		decide: (value: string | null) => { value?: string; ttlMs?: number; del?: boolean; result: T },
	): Promise<T> {
		const run = this.queue.then(() => this.named(() => this.watchedUpdate(key, decide)));
		this.queue = run.catch(() => undefined);
		return run;
	}

	private async watchedUpdate<T>(
		key: string,
		decide: (value: string | null) => { value?: string; ttlMs?: number; del?: boolean; result: T },
	): Promise<T> {
		for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
			let next: ReturnType<typeof decide>;
			try {
				await this.redis.watch(key);
				next = decide(await this.redis.get(key));
			} catch (error) {
				// A WATCH left behind would make this connection's next transaction fail.
				await this.redis.unwatch().catch(() => undefined);
				throw error;
			}
			const multi = this.redis.multi();
			if (next.del) multi.del(key);
			else if (next.value !== undefined) {
				if (next.ttlMs) multi.set(key, next.value, 'PX', Math.max(1, Math.round(next.ttlMs)));
				else multi.set(key, next.value);
			}
			const done = await multi.exec();
			if (done !== null) return next.result;
		}
		throw new StateStoreUnavailableError(
			`Redis key ${key} kept changing under ${MAX_CONFLICT_RETRIES} attempts`,
		);
	}

	async claim(
		key: string,
		owner: string,
		leaseMs: number,
		now = Date.now(),
	): Promise<IdempotencyClaim> {
		return this.transact<IdempotencyClaim>(`${this.prefix}idem:${key}`, (raw) => {
			const row = raw ? (JSON.parse(raw) as IdemRecord) : undefined;
			if (row?.status === 'done' && row.expiresAt > now && row.result !== undefined)
				return { result: { status: 'done', result: row.result } };
			if (row?.status === 'processing' && row.leaseUntil > now && row.owner !== owner)
				return { result: { status: 'busy', leaseUntil: row.leaseUntil } };
			const claimed: IdemRecord = {
				status: 'processing',
				owner,
				leaseUntil: now + leaseMs,
				expiresAt: 0,
			};
			return { value: JSON.stringify(claimed), ttlMs: leaseMs * 2, result: { status: 'claimed' } };
		});
	}

	async complete(
		key: string,
		owner: string,
		result: string,
		ttlMs: number,
		now = Date.now(),
	): Promise<void> {
		await this.transact(`${this.prefix}idem:${key}`, (raw) => {
			const row = raw ? (JSON.parse(raw) as IdemRecord) : undefined;
			if (row?.owner !== owner) return { result: undefined };
			const done: IdemRecord = {
				status: 'done',
				owner,
				leaseUntil: 0,
				result,
				expiresAt: now + ttlMs,
			};
			return { value: JSON.stringify(done), ttlMs, result: undefined };
		});
	}

	async release(key: string, owner: string): Promise<void> {
		await this.transact(`${this.prefix}idem:${key}`, (raw) => {
			const row = raw ? (JSON.parse(raw) as IdemRecord) : undefined;
			return row?.owner === owner && row.status === 'processing'
				? { del: true, result: undefined }
				: { result: undefined };
		});
	}

	async admit(circuit: string, policy: BreakerPolicy, now = Date.now()): Promise<Admission> {
		return this.transact(`${this.prefix}breaker:${circuit}`, (raw) => {
			const decision = admission(
				rowOf(raw ? (JSON.parse(raw) as BreakerRow) : undefined),
				policy,
				now,
			);
			return decision.changed
				? { value: JSON.stringify(decision.row), result: decision.admission }
				: { result: decision.admission };
		});
	}

	async record(
		circuit: string,
		outcome: BreakerOutcome,
		policy: BreakerPolicy,
		now = Date.now(),
	): Promise<void> {
		await this.transact(`${this.prefix}breaker:${circuit}`, (raw) => {
			const row = afterOutcome(
				rowOf(raw ? (JSON.parse(raw) as BreakerRow) : undefined),
				outcome,
				policy,
				now,
			);
			return { value: JSON.stringify(row), result: undefined };
		});
	}

	async snapshot(circuit: string, now = Date.now()): Promise<BreakerSnapshot> {
		const raw = await this.named(() => this.redis.get(`${this.prefix}breaker:${circuit}`));
		return snapshotOf(rowOf(raw ? (JSON.parse(raw) as BreakerRow) : undefined), now);
	}

	async openCircuits(now = Date.now()): Promise<string[]> {
		return this.named(async () => {
			const circuits: string[] = [];
			let cursor = '0';
			do {
				const [next, keys] = await this.redis.scan(
					cursor,
					'MATCH',
					`${this.prefix}breaker:*`,
					'COUNT',
					200,
				);
				cursor = next;
				for (const key of keys) {
					const raw = await this.redis.get(key);
					if (raw && isOpen(rowOf(JSON.parse(raw) as BreakerRow), now))
						circuits.push(key.slice(`${this.prefix}breaker:`.length));
				}
			} while (cursor !== '0');
			return circuits.sort();
		});
	}

	async countTask(workflowId: string, outcome: TaskOutcome, now = Date.now()): Promise<void> {
		return this.addCounts([countsOfTask(workflowId, outcome, now)]);
	}

	async addCounts(counts: MinuteCounts[]): Promise<void> {
		if (counts.length === 0) return;
		// HINCRBY is atomic on its own; the pipeline only saves round trips.
		const pipeline = this.redis.pipeline();
		for (const c of counts) {
			const key = `${this.prefix}counters:${c.minute}:${c.workflowId}`;
			pipeline.hincrby(key, 'tasks', c.tasks).hincrby(key, 'cost_micros', c.costMicros);
			c.answeredByTier.forEach((n, i) => {
				if (n) pipeline.hincrby(key, `t${i + 1}`, n);
			});
			if (c.escalated) pipeline.hincrby(key, 'escalated', c.escalated);
			if (c.workflowName)
				pipeline.hset(`${this.prefix}workflow-names`, c.workflowId, c.workflowName);
			pipeline
				.expire(key, 86_400)
				.sadd(`${this.prefix}counters:${c.minute}`, c.workflowId)
				.expire(`${this.prefix}counters:${c.minute}`, 86_400);
		}
		await this.named(async () => {
			// A pipeline resolves even when its commands failed: each reply carries its own error.
			const failed = (await pipeline.exec())?.find(([error]) => error);
			if (failed) throw failed[0];
		});
	}

	async readCounters(fromMs: number, toMs: number): Promise<Map<string, Counters>> {
		return this.named(() => this.countersOver(fromMs, toMs));
	}

	private async countersOver(fromMs: number, toMs: number): Promise<Map<string, Counters>> {
		const totals = new Map<string, Counters>();
		for (let minute = Math.floor(fromMs / 60_000); minute < Math.ceil(toMs / 60_000); minute++) {
			for (const workflow of await this.redis.smembers(`${this.prefix}counters:${minute}`)) {
				const h = await this.redis.hgetall(`${this.prefix}counters:${minute}:${workflow}`);
				const n = (field: string) => Number(h[field] ?? 0);
				const total = totals.get(workflow) ?? emptyCounters();
				total.tasks += n('tasks');
				total.answeredByTier = [0, 1, 2, 3].map(
					(i) => total.answeredByTier[i] + n(`t${i + 1}`),
				) as Counters['answeredByTier'];
				total.escalated += n('escalated');
				total.costUsd += n('cost_micros') / 1e6;
				totals.set(workflow, total);
			}
		}
		if (totals.size > 0) {
			const ids = [...totals.keys()];
			const names = await this.redis.hmget(`${this.prefix}workflow-names`, ...ids);
			ids.forEach((id, i) => {
				if (names[i]) totals.get(id)!.workflowName = names[i];
			});
		}
		return totals;
	}

	async close(): Promise<void> {
		this.redis.disconnect();
	}
}
