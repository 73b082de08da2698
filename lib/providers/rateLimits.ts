/**
 * What a provider says about its rate limits with each answer (and with each 429): for
 * requests and for tokens per minute, how many are left and how long until the limit is full
 * again. Each provider's headers are read (and, for the emulator, written) in its own folder;
 * the pacer (lib/engine/limits/) keeps what they say per circuit.
 */
import { headerValue } from './retryHints';
import type { LimitHeadroom, RateLimitReading } from './types';

export type { LimitHeadroom, RateLimitReading } from './types';

/** A limit's state to write as headers (the emulator): the limit, what is left, when it is full. */
export interface LimitState {
	limit: number;
	remaining: number;
	resetMs: number;
}

/** What the emulator's buckets hold for one key at one answer. */
export interface LimitStates {
	requests?: LimitState;
	tokens?: LimitState;
}

/** A number header, or undefined when absent or not a number. */
export function numberHeader(headers: unknown, name: string): number | undefined {
	const raw = headerValue(headers, name);
	if (raw === undefined || raw.trim() === '') return undefined;
	const value = Number(raw);
	return Number.isFinite(value) ? value : undefined;
}

/** A limit read from its three values; none when `remaining` is missing. */
export function headroomOf(
	limit: number | undefined,
	remaining: number | undefined,
	resetMs: number | undefined,
): LimitHeadroom | undefined {
	if (remaining === undefined) return undefined;
	return {
		...(limit !== undefined ? { limit } : {}),
		remaining: Math.max(0, remaining),
		resetMs: Math.max(0, resetMs ?? 0),
	};
}

/** A reading with at least one limit in it, or none. */
export function readingOf(
	requests: LimitHeadroom | undefined,
	tokens: LimitHeadroom | undefined,
): RateLimitReading | undefined {
	if (!requests && !tokens) return undefined;
	return { ...(requests ? { requests } : {}), ...(tokens ? { tokens } : {}) };
}
