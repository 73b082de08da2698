/**
 * The rate pacer's rules, as pure functions of its stored row, one row per circuit. Every
 * state store applies exactly these inside one atomic operation: the embedded store as they
 * are, the Redis store as their Lua translation (redisPacingScripts.ts), held to these
 * functions by test/state/pacingRules.test.ts. A change here is made there too.
 *
 * Two buckets mirror the provider's own limits, requests and tokens per minute: each call
 * takes from them before it goes, and each answer's rate-limit headers set them to what the
 * provider says is left. Without headers, a window of calls in flight shrinks by half on
 * every 429 and grows by one per answer (AIMD); a 429's retry hint holds every call.
 */

import { FIRST_CALL_HOLD_MS } from './breakerRules';
import type { PaceLimit, PaceOutcome, PaceRequest, PaceSnapshot } from './paceTypes';

export type { PaceLimit, PaceOutcome, PaceRequest, PaceSnapshot } from './paceTypes';

/** One bucket: its level, the most it holds, its refill per ms, and when it was last filled. */
export interface PaceBucket {
	level: number;
	cap: number;
	perMs: number;
	at: number;
}

export interface PaceRow {
	requests?: PaceBucket;
	tokens?: PaceBucket;
	/** Calls allowed in flight at once (AIMD); 0: no window, until the first 429. */
	window: number;
	/** No call goes before this time (a 429's retry hint). */
	holdUntil: number;
	/**
	 * A new circuit's first call goes alone, and the others wait for its answer (its headers
	 * say what the limit is) until this time at most.
	 */
	coldUntil: number;
	/** Not stored: no call to this circuit was ever let out. */
	fresh?: boolean;
	/** Calls in flight: their id and when their lease ends (a worker that died frees its slot). */
	inFlight: Record<string, number>;
}

export const EMPTY_PACE: PaceRow = { window: 0, holdUntil: 0, coldUntil: 0, inFlight: {} };

/**
 * The longest a new circuit's other calls wait for its first answer: as long as the breaker
 * holds them behind a first call, far shorter than a real answer, so a first batch on a slow
 * model is not held back for it.
 */
export const COLD_HOLD_MS = FIRST_CALL_HOLD_MS;

/** A window that grew this far holds nothing back any more: it is lifted. */
export const WINDOW_LIFTED_AT = 256;

/** How often a call held by the window looks again, in ms: a slot frees when any call ends. */
export const WINDOW_POLL_MS = 25;

export function paceRowOf(raw: unknown): PaceRow {
	if (!raw || typeof raw !== 'object') return { ...EMPTY_PACE, inFlight: {}, fresh: true };
	const row = raw as Partial<PaceRow>;
	return {
		...(row.requests ? { requests: { ...row.requests } } : {}),
		...(row.tokens ? { tokens: { ...row.tokens } } : {}),
		window: Number(row.window) || 0,
		holdUntil: Number(row.holdUntil) || 0,
		coldUntil: Number(row.coldUntil) || 0,
		inFlight: { ...(row.inFlight ?? {}) },
	};
}

/**
 * Rounded so that a row read back from JSON (Redis's cjson keeps 14 digits) gives the same
 * answers as the row it was written from.
 */
function rounded(value: number, places: number): number {
	return Math.round(value * places) / places;
}

function refill(bucket: PaceBucket, now: number): void {
	bucket.level = rounded(
		Math.min(bucket.cap, bucket.level + Math.max(0, now - bucket.at) * bucket.perMs),
		1e6,
	);
	bucket.at = now;
}

function pruneExpired(row: PaceRow, now: number): number {
	let count = 0;
	for (const [id, until] of Object.entries(row.inFlight)) {
		if (until <= now) delete row.inFlight[id];
		else count++;
	}
	return count;
}

/** The longest one wait for a bucket to refill: a minute refills any per-minute limit. */
export const MAX_PACE_WAIT_MS = 60_000;

function waitFor(missing: number, perMs: number): number {
	return Math.min(MAX_PACE_WAIT_MS, Math.max(1, Math.ceil(missing / perMs)));
}

/**
 * Takes a place for one call: 0 when it may go now (the buckets charged, its slot held), or
 * the ms to wait before asking again.
 */
export function acquirePace(row: PaceRow, request: PaceRequest, now: number): number {
	const inFlight = pruneExpired(row, now);
	if (row.fresh) {
		delete row.fresh;
		row.coldUntil = now + COLD_HOLD_MS;
	} else if (row.coldUntil > now && inFlight > 0) return WINDOW_POLL_MS;
	if (row.holdUntil > now) return Math.ceil(row.holdUntil - now);
	if (row.window > 0 && inFlight >= row.window) return WINDOW_POLL_MS;
	const { requests, tokens } = row;
	if (requests) {
		refill(requests, now);
		if (requests.level < 1) return waitFor(1 - requests.level, requests.perMs);
	}
	if (tokens) {
		refill(tokens, now);
		// A call larger than the whole bucket goes when it is full, as the provider lets it.
		const need = Math.min(request.tokens, tokens.cap);
		if (tokens.level < need) return waitFor(need - tokens.level, tokens.perMs);
	}
	if (requests) requests.level -= 1;
	if (tokens) tokens.level -= request.tokens;
	row.inFlight[request.id] = now + request.leaseMs;
	return 0;
}

/**
 * A bucket after an answer's headers: what the provider says is left, unless this side
 * already counted less (calls it let go that the provider had not seen yet). It refills at
 * the limit per minute and holds at most the most the provider ever said was left.
 */
function readBucket(
	bucket: PaceBucket | undefined,
	limit: PaceLimit,
	now: number,
): PaceBucket | undefined {
	const perMs = rounded(
		limit.limit !== undefined && limit.limit > 0
			? limit.limit / 60_000
			: limit.resetMs > 0
				? Math.max(1, limit.remaining) / limit.resetMs
				: (bucket?.perMs ?? 0),
		1e9,
	);
	// Headers that say what is left but not how fast it refills cannot pace anything.
	if (!(perMs > 0)) return bucket;
	if (!bucket) return { level: limit.remaining, cap: limit.remaining + 1, perMs, at: now };
	refill(bucket, now);
	return {
		level: Math.min(bucket.level, limit.remaining),
		cap: Math.max(bucket.cap, limit.remaining + 1),
		perMs,
		at: now,
	};
}

/** Frees the call's slot and learns from its answer. */
export function settlePace(row: PaceRow, outcome: PaceOutcome, now: number): void {
	const inFlight = pruneExpired(row, now);
	delete row.inFlight[outcome.id];
	delete row.fresh;
	// The first answer came: what it says (or the lack of headers) decides from now on.
	row.coldUntil = 0;
	if (outcome.requests && (outcome.requests.limit ?? 1) > 0)
		row.requests = readBucket(row.requests, outcome.requests, now);
	if (outcome.tokens && (outcome.tokens.limit ?? 1) > 0)
		row.tokens = readBucket(row.tokens, outcome.tokens, now);
	if (outcome.result === 'limited') {
		// With headers the buckets pace the calls; the window is for providers that send none.
		if (!outcome.requests && !outcome.tokens) {
			const current = row.window > 0 ? row.window : inFlight;
			row.window = Math.max(1, Math.floor(current / 2));
		}
		if (outcome.retryAfterMs && outcome.retryAfterMs > 0)
			row.holdUntil = Math.max(row.holdUntil, now + outcome.retryAfterMs);
	} else if (outcome.result === 'answered' && row.window > 0) {
		row.window = row.window + 1 >= WINDOW_LIFTED_AT ? 0 : row.window + 1;
	}
}

export function paceSnapshotOf(row: PaceRow, now: number): PaceSnapshot {
	const inFlight = pruneExpired(row, now);
	if (row.requests) refill(row.requests, now);
	if (row.tokens) refill(row.tokens, now);
	return {
		window: row.window,
		inFlight,
		holdUntil: row.holdUntil,
		...(row.requests ? { requestsLeft: Math.floor(row.requests.level) } : {}),
		...(row.tokens ? { tokensLeft: Math.floor(row.tokens.level) } : {}),
	};
}
