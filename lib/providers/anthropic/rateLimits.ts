/**
 * Anthropic's rate-limit headers, on every answer and on its 429s:
 * `anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}`,
 * the reset an RFC 3339 time at which the limit is full again.
 */
import { headerValue } from '../retryHints';
import { headroomOf, numberHeader, readingOf } from '../rateLimits';
import type { LimitHeadroom, LimitStates, RateLimitReading } from '../rateLimits';

const PREFIX = 'anthropic-ratelimit-';

function limitOf(headers: unknown, kind: string, now: number): LimitHeadroom | undefined {
	const reset = headerValue(headers, `${PREFIX}${kind}-reset`);
	const at = reset ? Date.parse(reset) : Number.NaN;
	return headroomOf(
		numberHeader(headers, `${PREFIX}${kind}-limit`),
		numberHeader(headers, `${PREFIX}${kind}-remaining`),
		Number.isNaN(at) ? undefined : at - now,
	);
}

/** The tightest of Anthropic's token limits: all tokens, input tokens, output tokens. */
function tightest(limits: (LimitHeadroom | undefined)[]): LimitHeadroom | undefined {
	let best: LimitHeadroom | undefined;
	for (const limit of limits) {
		if (!limit) continue;
		const share = limit.limit ? limit.remaining / limit.limit : 1;
		const bestShare = best?.limit ? best.remaining / best.limit : 1;
		if (!best || share < bestShare) best = limit;
	}
	return best;
}

export function readAnthropicLimits(
	headers: unknown,
	now = Date.now(),
): RateLimitReading | undefined {
	return readingOf(
		limitOf(headers, 'requests', now),
		tightest(['tokens', 'input-tokens', 'output-tokens'].map((k) => limitOf(headers, k, now))),
	);
}

/** The same headers, written by the emulator. */
export function anthropicLimitHeaders(
	states: LimitStates,
	now = Date.now(),
): Record<string, string> {
	const headers: Record<string, string> = {};
	for (const [kind, state] of [
		['requests', states.requests],
		['tokens', states.tokens],
	] as const) {
		if (!state) continue;
		headers[`${PREFIX}${kind}-limit`] = String(state.limit);
		headers[`${PREFIX}${kind}-remaining`] = String(Math.floor(state.remaining));
		// Whole seconds, rounded up, as Anthropic's reset times are.
		const reset = Math.ceil((now + state.resetMs) / 1000) * 1000;
		headers[`${PREFIX}${kind}-reset`] = new Date(reset).toISOString().replace('.000Z', 'Z');
	}
	return headers;
}
