/**
 * The shared state store on Redis, for n8n's queue mode and several instances. Each
 * operation is one Lua script (redisScripts.ts) that reads, decides with the same rules as
 * the embedded store and writes inside Redis: atomic across workers, and one round trip.
 * Operations of one process share its connection concurrently (pipelined), so a burst of
 * breaker checks takes about one round trip, not one each.
 *
 * Once connected, the client reconnects for as long as the process lives, with a capped
 * backoff: a Redis restart needs no n8n restart. While it is away every command fails at
 * once (no offline queue) or after the per-command timeout, never hangs a task.
 */
import { randomUUID } from 'node:crypto';

import Redis from 'ioredis';

import { FIRST_CALL_HOLD_MS, isOpen, rowOf, snapshotOf } from './breakerRules';
import type { BreakerRow } from './breakerRules';
import { ADD_COUNTS, ADMIT, CLAIM, COMPLETE, RECORD, RELEASE, RENEW } from './redisScripts';
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
/** Counters older than a day are of no use to any window; nor is the marker of a write that old. */
const COUNTERS_TTL_S = 86_400;

/** A SCAN MATCH pattern for keys that start with `literal`: glob characters in it match themselves. */
export function globPrefix(literal: string): string {
	return literal.replace(/[*?[\]\\]/g, '\\$&');
}

/** The scripts, run by SHA (ioredis sends the script itself when Redis does not know it yet). */
interface ScriptCommands {
	rllmAdmit(
		key: string,
		now: number,
		probeLeaseMs: number,
		firstCallLeaseMs: number,
	): Promise<Admission>;
	rllmRecord(
		key: string,
		outcome: BreakerOutcome,
		now: number,
		...policy: number[]
	): Promise<number>;
	rllmClaim(
		key: string,
		owner: string,
		leaseMs: number,
		now: number,
	): Promise<[string, (string | number)?]>;
	rllmRenew(key: string, owner: string, leaseMs: number, now: number): Promise<number>;
	rllmComplete(
		key: string,
		owner: string,
		result: string,
		ttlMs: number,
		now: number,
	): Promise<number>;
	rllmRelease(key: string, owner: string): Promise<number>;
	rllmAddCounts(numberOfKeys: number, ...keysAndArgs: Array<string | number>): Promise<number>;
}

export { StateStoreUnavailableError };

export class RedisStateStore implements StateStore {
	private readonly redis: Redis & ScriptCommands;
	private readonly prefix: string;
	private lastError?: string;

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
		}) as Redis & ScriptCommands;
		// Surfaced per command instead; the last one says why a first connection closed.
		this.redis.on('error', (error: Error) => (this.lastError = error.message));
		this.redis.defineCommand('rllmAdmit', { numberOfKeys: 1, lua: ADMIT });
		this.redis.defineCommand('rllmRecord', { numberOfKeys: 1, lua: RECORD });
		this.redis.defineCommand('rllmClaim', { numberOfKeys: 1, lua: CLAIM });
		this.redis.defineCommand('rllmRenew', { numberOfKeys: 1, lua: RENEW });
		this.redis.defineCommand('rllmComplete', { numberOfKeys: 1, lua: COMPLETE });
		this.redis.defineCommand('rllmRelease', { numberOfKeys: 1, lua: RELEASE });
		// Its keys depend on the counts: their number comes first in each call.
		this.redis.defineCommand('rllmAddCounts', { lua: ADD_COUNTS });
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
			// A refused password closes the connection: its reason came as an error event.
			let reason = (error as Error).message;
			if (/Connection is closed/i.test(reason) && this.lastError) reason = this.lastError;
			throw new StateStoreUnavailableError(`${this.where} is unreachable: ${reason}`);
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
		return this.addCounts([countsOfTask(workflowId, outcome, now)]);
	}

	/**
	 * One script adds every count, or none. A write sent again under the same `writeId` (its
	 * reply was lost) is not added twice.
	 */
	async addCounts(counts: MinuteCounts[], _now?: number, writeId = randomUUID()): Promise<void> {
		if (counts.length === 0) return;
		const keys = [`${this.prefix}workflow-names`, `${this.prefix}counter-write:${writeId}`];
		for (const c of counts)
			keys.push(
				`${this.prefix}counters:${c.minute}:${c.workflowId}`,
				`${this.prefix}counters:${c.minute}`,
			);
		await this.named(() =>
			this.redis.rllmAddCounts(keys.length, ...keys, JSON.stringify(counts), COUNTERS_TTL_S),
		);
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
