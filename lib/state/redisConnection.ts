/**
 * The connection behind the Redis state store: one ioredis client per store, its scripts
 * (redisScripts.ts) defined on it, and every failure named after the server.
 *
 * Once connected, the client reconnects for as long as the process lives, with a capped
 * backoff: a Redis restart needs no n8n restart. While it is away every command fails at
 * once (no offline queue) or after the per-command timeout, never hangs a task.
 */
import Redis from 'ioredis';

import { RESERVE_BUDGET, SETTLE_BUDGET } from './redisBudgetScripts';
import { ACQUIRE_PACE, SETTLE_PACE } from './redisPacingScripts';
import { ADD_COUNTS, ADMIT, CLAIM, COMPLETE, RECORD, RELEASE, RENEW } from './redisScripts';
import { StateStoreUnavailableError } from './types';
import type { Admission, BreakerOutcome } from './types';

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

/** A SCAN MATCH pattern for keys that start with `literal`: glob characters in it match themselves. */
export function globPrefix(literal: string): string {
	return literal.replace(/[*?[\]\\]/g, '\\$&');
}

/** The longest wait between two reconnection attempts: Redis back means in use again within about this. */
export const MAX_RECONNECT_DELAY_MS = 1_000;
/** No command waits longer than this for Redis, so a hung server never hangs a task. */
export const COMMAND_TIMEOUT_MS = 2_000;

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
	rllmAcquirePace(
		key: string,
		now: number,
		id: string,
		tokens: number,
		leaseMs: number,
	): Promise<number>;
	rllmSettlePace(key: string, now: number, id: string, ...outcome: string[]): Promise<number>;
	rllmReserveBudget(
		key: string,
		entryKey: string,
		now: number,
		id: string,
		micros: number,
		capMicros: number,
		leaseMs: number,
		ttlMs: number,
		label: string,
	): Promise<[number, number, number]>;
	rllmSettleBudget(
		key: string,
		entryKey: string,
		now: number,
		id: string,
		actualMicros: number,
		ttlMs: number,
		capMicros: number,
		label: string,
	): Promise<[number, number]>;
}

export type ScriptedRedis = Redis & ScriptCommands;

export class RedisConnection {
	readonly redis: ScriptedRedis;
	private lastError?: string;

	constructor(settings: RedisSettings) {
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
		}) as ScriptedRedis;
		// Surfaced per command instead; the last one says why a first connection closed.
		this.redis.on('error', (error: Error) => (this.lastError = error.message));
		this.redis.defineCommand('rllmAdmit', { numberOfKeys: 1, lua: ADMIT });
		this.redis.defineCommand('rllmRecord', { numberOfKeys: 1, lua: RECORD });
		this.redis.defineCommand('rllmClaim', { numberOfKeys: 1, lua: CLAIM });
		this.redis.defineCommand('rllmRenew', { numberOfKeys: 1, lua: RENEW });
		this.redis.defineCommand('rllmComplete', { numberOfKeys: 1, lua: COMPLETE });
		this.redis.defineCommand('rllmRelease', { numberOfKeys: 1, lua: RELEASE });
		this.redis.defineCommand('rllmAcquirePace', { numberOfKeys: 1, lua: ACQUIRE_PACE });
		this.redis.defineCommand('rllmSettlePace', { numberOfKeys: 1, lua: SETTLE_PACE });
		this.redis.defineCommand('rllmReserveBudget', { numberOfKeys: 2, lua: RESERVE_BUDGET });
		this.redis.defineCommand('rllmSettleBudget', { numberOfKeys: 2, lua: SETTLE_BUDGET });
		// Its keys depend on the counts: their number comes first in each call.
		this.redis.defineCommand('rllmAddCounts', { lua: ADD_COUNTS });
	}

	get where(): string {
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
	async named<T>(operation: () => Promise<T>): Promise<T> {
		try {
			return await operation();
		} catch (error) {
			if (error instanceof StateStoreUnavailableError) throw error;
			throw new StateStoreUnavailableError(
				`${this.where} is unavailable: ${(error as Error).message}`,
			);
		}
	}
}
