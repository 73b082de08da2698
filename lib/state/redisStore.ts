/**
 * The shared state store on Redis, for n8n's queue mode and several instances. Each
 * operation is an optimistic transaction (WATCH, read, decide with the same rules as the
 * embedded store, MULTI/EXEC, retry on conflict): atomic across workers.
 */
import Redis from 'ioredis';

import { admission, afterOutcome } from './sqliteStore';
import type {
	Admission,
	BreakerPolicy,
	BreakerSnapshot,
	IdempotencyClaim,
	StateStore,
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

interface IdemRecord {
	status: 'processing' | 'done';
	owner: string;
	leaseUntil: number;
	result?: string;
	expiresAt: number;
}

interface BreakerRow {
	state: 'closed' | 'open' | 'half_open';
	failures: number;
	open_until: number;
	probe_until: number;
}

const CLOSED: BreakerRow = { state: 'closed', failures: 0, open_until: 0, probe_until: 0 };
const MAX_CONFLICT_RETRIES = 20;

export class StateStoreUnavailableError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'StateStoreUnavailableError';
	}
}

export class RedisStateStore implements StateStore {
	private readonly redis: Redis;
	private readonly prefix: string;
	/** WATCH is per connection: this client's transactions run one at a time. */
	private queue: Promise<unknown> = Promise.resolve();

	constructor(settings: RedisSettings) {
		this.prefix = settings.prefix ?? 'resilient-llm:';
		this.redis = new Redis({
			host: settings.host,
			port: settings.port,
			password: settings.password || undefined,
			username: settings.user || undefined,
			db: settings.database ?? 0,
			...(settings.ssl ? { tls: {} } : {}),
			// Fail fast instead of queueing commands while Redis is unreachable: never hang a task.
			lazyConnect: true,
			connectTimeout: 2_000,
			commandTimeout: 2_000,
			maxRetriesPerRequest: 1,
			enableOfflineQueue: false,
			retryStrategy: (times) => (times > 3 ? null : 200),
		});
		this.redis.on('error', () => undefined); // surfaced per command instead
	}

	async connect(): Promise<void> {
		try {
			if (this.redis.status === 'wait') await this.redis.connect();
			await this.redis.ping();
		} catch (error) {
			throw new StateStoreUnavailableError(
				`Redis at ${this.redis.options.host}:${this.redis.options.port} is unreachable: ${(error as Error).message}`,
			);
		}
	}

	/** WATCH key, read it, let `decide` write, EXEC; retried when another client changed the key. */
	private transact<T>(
		key: string,
		decide: (value: string | null) => { value?: string; ttlMs?: number; del?: boolean; result: T },
	): Promise<T> {
		const run = this.queue.then(() => this.watchedUpdate(key, decide));
		this.queue = run.catch(() => undefined);
		return run;
	}

	private async watchedUpdate<T>(
		key: string,
		decide: (value: string | null) => { value?: string; ttlMs?: number; del?: boolean; result: T },
	): Promise<T> {
		for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
			await this.redis.watch(key);
			const current = await this.redis.get(key);
			const next = decide(current);
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
			const decision = admission(raw ? (JSON.parse(raw) as BreakerRow) : CLOSED, policy, now);
			return decision.changed
				? { value: JSON.stringify(decision.row), result: decision.admission }
				: { result: decision.admission };
		});
	}

	async record(
		circuit: string,
		outcome: 'success' | 'transient' | 'hard',
		policy: BreakerPolicy,
		now = Date.now(),
	): Promise<void> {
		await this.transact(`${this.prefix}breaker:${circuit}`, (raw) => {
			const row = afterOutcome(
				raw ? (JSON.parse(raw) as BreakerRow) : CLOSED,
				outcome,
				policy,
				now,
			);
			return { value: JSON.stringify(row), result: undefined };
		});
	}

	async snapshot(circuit: string, now = Date.now()): Promise<BreakerSnapshot> {
		const raw = await this.redis.get(`${this.prefix}breaker:${circuit}`);
		const row = raw ? (JSON.parse(raw) as BreakerRow) : CLOSED;
		const state = row.state === 'open' && row.open_until <= now ? 'half_open' : row.state;
		return { state, failures: row.failures, openUntil: row.open_until };
	}

	async close(): Promise<void> {
		this.redis.disconnect();
	}
}
