/**
 * OpenAI's rate-limit headers (and those of the servers that copy them):
 * `x-ratelimit-{limit,remaining,reset}-{requests,tokens}`, the reset a duration such as
 * `20ms`, `1.5s` or `6m0s` until the limit is full again.
 */
import { headerValue } from '../retryHints';
import { headroomOf, numberHeader, readingOf } from '../rateLimits';
import type { LimitHeadroom, LimitStates, RateLimitReading } from '../rateLimits';

/** `6m0s`, `1.5s`, `20ms`, `1h2m3s` in ms; a bare number is seconds. */
export function durationMs(text: string | undefined): number | undefined {
	if (text === undefined) return undefined;
	const trimmed = text.trim();
	if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
	if (!/^(\d+(\.\d+)?(ms|h|m|s))+$/.test(trimmed)) return undefined;
	let total = 0;
	for (const part of trimmed.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
		const value = Number(part[1]);
		total +=
			part[2] === 'ms' ? value : value * (part[2] === 's' ? 1e3 : part[2] === 'm' ? 6e4 : 3.6e6);
	}
	return total;
}

function limitOf(headers: unknown, kind: 'requests' | 'tokens'): LimitHeadroom | undefined {
	return headroomOf(
		numberHeader(headers, `x-ratelimit-limit-${kind}`),
		numberHeader(headers, `x-ratelimit-remaining-${kind}`),
		durationMs(headerValue(headers, `x-ratelimit-reset-${kind}`)),
	);
}

export function readOpenAiLimits(headers: unknown): RateLimitReading | undefined {
	return readingOf(limitOf(headers, 'requests'), limitOf(headers, 'tokens'));
}

/** A duration as OpenAI writes it: `120ms`, `1.5s`, `6m0s`. */
export function durationText(ms: number): string {
	if (ms < 1000) return `${Math.ceil(ms)}ms`;
	const seconds = Math.round(ms / 100) / 10;
	if (seconds < 60) return `${seconds}s`;
	return `${Math.floor(seconds / 60)}m${Math.round(seconds % 60)}s`;
}

/** The same headers, written by the emulator. */
export function openAiLimitHeaders(states: LimitStates): Record<string, string> {
	const headers: Record<string, string> = {};
	for (const [kind, state] of [
		['requests', states.requests],
		['tokens', states.tokens],
	] as const) {
		if (!state) continue;
		headers[`x-ratelimit-limit-${kind}`] = String(state.limit);
		headers[`x-ratelimit-remaining-${kind}`] = String(Math.floor(state.remaining));
		headers[`x-ratelimit-reset-${kind}`] = durationText(state.resetMs);
	}
	return headers;
}
