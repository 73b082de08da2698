import type { RetryHint } from './types';

/** Reads a header from either a fetch Headers object or a plain record. */
export function headerValue(headers: unknown, name: string): string | undefined {
	if (!headers || typeof headers !== 'object') return undefined;
	if (typeof (headers as Headers).get === 'function') {
		return (headers as Headers).get(name) ?? undefined;
	}
	const value = (headers as Record<string, unknown>)[name];
	return typeof value === 'string' ? value : undefined;
}

/** `retry-after-ms` (OpenAI), then `retry-after` as seconds or an HTTP date. */
export function hintFromHeaders(headers: unknown, now = Date.now()): RetryHint | undefined {
	const ms = headerValue(headers, 'retry-after-ms');
	if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms.trim())) {
		return { source: 'retry-after-ms', ms: Math.round(Number(ms)) };
	}
	const after = headerValue(headers, 'retry-after');
	if (after === undefined) return undefined;
	if (/^\d+(\.\d+)?$/.test(after.trim())) {
		return { source: 'retry-after', ms: Math.round(Number(after) * 1000) };
	}
	const date = Date.parse(after);
	if (!Number.isNaN(date)) return { source: 'retry-after', ms: Math.max(0, date - now) };
	return undefined;
}

/** Gemini's `details[].RetryInfo.retryDelay`, a protobuf Duration such as "22s" or "1.5s". */
export function hintFromGeminiDetails(details: unknown): RetryHint | undefined {
	if (!Array.isArray(details)) return undefined;
	for (const detail of details) {
		if (!detail || typeof detail !== 'object') continue;
		const type = (detail as Record<string, unknown>)['@type'];
		const delay = (detail as Record<string, unknown>).retryDelay;
		if (typeof type === 'string' && type.endsWith('RetryInfo') && typeof delay === 'string') {
			const match = /^(\d+(?:\.\d+)?)s$/.exec(delay.trim());
			if (match) return { source: 'gemini-retry-info', ms: Math.round(Number(match[1]) * 1000) };
		}
	}
	return undefined;
}

/** OpenAI's "Please try again in 1.574s." / "in 20ms" / "in 1m30s" inside the error message. */
export function hintFromMessage(
	message: string,
	source: RetryHint['source'] = 'openai-message',
): RetryHint | undefined {
	const match = /try again in ((?:\d+(?:\.\d+)?(?:ms|h|m|s))+)/i.exec(message);
	if (!match) return undefined;
	let total = 0;
	for (const part of match[1].matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
		const value = Number(part[1]);
		const unit = part[2];
		total +=
			unit === 'ms'
				? value
				: unit === 's'
					? value * 1000
					: unit === 'm'
						? value * 60_000
						: value * 3_600_000;
	}
	return { source, ms: Math.round(total) };
}
