/**
 * The one place that turns anything a provider can do wrong into an ErrorClass: HTTP
 * statuses and bodies, headers, timeouts, dropped connections and answers that arrived but
 * are not usable. Each provider's descriptor reads its own SDK's errors and adds its own
 * rules; the rules here hold for every provider. Facts behind each rule: shared notes,
 * provider-errors.md.
 */
import { MALFORMED_BODY, MalformedResponseError } from '../providers/httpError';
import { providerOf } from '../providers/registry';
import { hintFromHeaders } from '../providers/retryHints';
import type { CompletionResponse, WireFailure } from '../providers/types';
import { DrillError } from './drill';
import { describeBody, redact, shortMessage } from './errorText';
import type { ClassifiedFailure, ErrorClass, ProviderName, RetryHint } from './types';

/** Why the engine itself cut an attempt short: its own timers, or the execution was stopped. */
export type AbortCause = 'attempt_timeout' | 'deadline' | 'cancelled';

function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
	return typeof value === 'string' ? value : '';
}

/**
 * The failed HTTP answer in a thrown error: the provider reads its own SDK's errors; any other
 * error with a numeric status is an HTTP failure with its message as the text.
 */
function readFailure(provider: ProviderName, error: unknown): WireFailure | undefined {
	const read = providerOf(provider).readFailure?.(error);
	if (read) return read;
	if (!isRecord(error) || typeof error.status !== 'number') return undefined;
	return { status: error.status, body: {}, text: str(error.message) };
}

/**
 * Fixed phrases only: these run on whole error bodies, where a pattern with an open-ended
 * part (`.*`) between two phrases retries from every occurrence of the first.
 */
const CONTEXT_PATTERNS = [
	/prompt is too long/i,
	/context[_ ]length/i,
	/maximum context length/i,
	/exceeds? (the )?(maximum )?context/i,
	/too many tokens/i,
];

/** Gemini: "The input token count (…) exceeds the maximum number of tokens allowed (…)". */
function inputTokenCountExceeds(text: string): boolean {
	const lower = text.toLowerCase();
	const at = lower.indexOf('input token count ');
	return at >= 0 && lower.indexOf(' exceeds', at + 'input token count'.length) >= 0;
}

function looksLikeContextOverflow(code: string, text: string): boolean {
	return (
		code === 'context_length_exceeded' ||
		CONTEXT_PATTERNS.some((re) => re.test(text)) ||
		inputTokenCountExceeds(text)
	);
}

/** The shared rules; a provider's own reading (its descriptor's classifyHttp) comes first. */
function classifyStatus(provider: ProviderName, wire: WireFailure): ErrorClass {
	// A connected model's failure read from a known wire: that provider's own rules, then the tier's.
	const specific =
		(wire.family && providerOf(wire.family).classifyHttp?.(wire)) ??
		providerOf(provider).classifyHttp?.(wire);
	if (specific) return specific;
	const status = wire.status;
	const code = str(wire.body.code) || str(wire.body.type);
	const text = wire.text;

	if (status === 429) {
		// Exhausted quotas look like rate limits on the wire but never clear by waiting.
		if (code === 'insufficient_quota') return 'quota_exhausted';
		if (/usage limit|quota exceeded|exceeded your (current )?quota|billing/i.test(text))
			return 'quota_exhausted';
		return 'rate_limited';
	}
	if (status === 529) return 'overloaded';
	if (status === 503) return 'overloaded';
	if (status === 408 || status === 504) return 'server_error';
	if (status >= 500) return 'server_error';
	if (status === 401 || status === 402 || status === 403) return 'auth';
	if (status === 404) return 'model_not_found';
	if (status === 400 || status === 413 || status === 422) {
		if (status === 413 || looksLikeContextOverflow(code, text)) return 'context_too_long';
		if (code === 'invalid_prompt') return 'refused';
		return 'bad_request';
	}
	if (status === 409) return 'server_error';
	return 'bad_request';
}

/** The server's hint: headers first, then wherever the provider puts one in its body. */
function hintFor(provider: ProviderName, wire: WireFailure): RetryHint | undefined {
	return hintFromHeaders(wire.headers) ?? providerOf(wire.family ?? provider).retryHint?.(wire);
}

const CONNECTION_CODES =
	/ECONNREFUSED|ECONNRESET|EPIPE|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|UND_ERR_SOCKET|UND_ERR_CLOSED|other side closed|socket hang up|\bterminated\b/i;

function causeChain(error: unknown): string {
	const parts: string[] = [];
	let current: unknown = error;
	for (let depth = 0; depth < 5 && isRecord(current); depth++) {
		parts.push(str(current.name), str(current.code), str(current.message));
		current = current.cause;
	}
	return parts.join(' ');
}

/**
 * A call that timed out, never connected, or got a body cut off part-way, read from the names,
 * codes and messages along the error's causes.
 */
function classifyTransport(
	provider: ProviderName,
	chain: string,
	syntaxError: boolean,
): ClassifiedFailure | undefined {
	if (/TimeoutError|timed out/i.test(chain)) {
		return { errorClass: 'timeout', message: 'the provider did not answer in time' };
	}
	// A body cut off part-way arrived: the server's fault, not the connection's ("Unterminated
	// string in JSON" is not undici's "terminated").
	if (
		syntaxError ||
		/Unexpected token|is not valid JSON|Could not parse|Unexpected end of JSON|Unterminated string in JSON/i.test(
			chain,
		)
	) {
		return { errorClass: 'server_error', message: 'malformed response body (not JSON)' };
	}
	const lower = chain.toLowerCase();
	const sdkWords = providerOf(provider).connectionWords ?? [];
	if (
		/fetch failed/i.test(chain) ||
		sdkWords.some((word) => lower.includes(word.toLowerCase())) ||
		CONNECTION_CODES.test(chain)
	) {
		const code = CONNECTION_CODES.exec(chain)?.[0];
		return {
			errorClass: 'connection',
			message: `connection failed${code ? ` (${code})` : ''}`,
		};
	}
	if (/AbortError|aborted/i.test(chain)) {
		return { errorClass: 'timeout', message: 'the request was aborted' };
	}
	return undefined;
}

/**
 * Classifies a thrown failure. `abortCause` is set when the engine's own timer aborted the
 * attempt: whatever the SDK made of that, it is a timeout.
 */
export function classifyError(
	provider: ProviderName,
	error: unknown,
	options: { abortCause?: AbortCause; secrets?: readonly string[] } = {},
): ClassifiedFailure {
	const failure = classify(provider, error, options);
	// Whatever a message quotes (an SDK's error, a URL), it leaves here without secrets.
	return { ...failure, message: redact(failure.message, options.secrets ?? []) };
}

const ABORT_MESSAGES: Record<AbortCause, string> = {
	attempt_timeout: 'no answer within the attempt timeout',
	deadline: 'the task deadline was reached during the call',
	cancelled: 'the execution was stopped during the call',
};

function classify(
	provider: ProviderName,
	error: unknown,
	options: { abortCause?: AbortCause; secrets?: readonly string[] },
): ClassifiedFailure {
	const secrets = options.secrets ?? [];
	if (options.abortCause) {
		return { errorClass: 'timeout', message: ABORT_MESSAGES[options.abortCause] };
	}
	if (error instanceof DrillError) {
		return { errorClass: error.errorClass, httpStatus: error.httpStatus, message: error.message };
	}
	if (error instanceof MalformedResponseError) {
		// A garbled body is a provider-side glitch: worth another try like any 5xx.
		return {
			errorClass: 'server_error',
			httpStatus: 200,
			message:
				error.what === MALFORMED_BODY
					? 'malformed response body (not JSON)'
					: `malformed: ${error.what}`,
		};
	}
	const wire = readFailure(provider, error);
	if (wire?.status !== undefined) {
		const retryHint = hintFor(provider, wire);
		const described =
			(wire.text && describeBody(wire.text, wire.status)) ||
			str(wire.body.type) ||
			`HTTP ${wire.status}`;
		const rateLimit = providerOf(wire.family ?? provider).readRateLimits?.(wire.headers);
		return {
			errorClass: classifyStatus(provider, wire),
			httpStatus: wire.status,
			requestId: wire.requestId,
			...(retryHint ? { retryHint } : {}),
			...(rateLimit ? { rateLimit } : {}),
			message: redact(shortMessage(described), secrets),
		};
	}
	const transport = classifyTransport(provider, causeChain(error), error instanceof SyntaxError);
	if (transport) return transport;
	const message = error instanceof Error ? error.message : String(error);
	const unread = providerOf(provider).unreadClass;
	if (unread)
		return {
			errorClass: unread,
			message: redact(
				shortMessage(`unrecognised error, taken as ${unread}: ${message || 'no message'}`),
				secrets,
			),
		};
	// Anything else never reached the provider: a local bug or a setting the SDK refused.
	// Retrying cannot help; failing over to another provider may.
	return {
		errorClass: 'bad_request',
		message: redact(shortMessage(`request not sent: ${message || 'unknown failure'}`), secrets),
	};
}

export interface OutputCheck {
	requireComplete: boolean;
	/** Parses and validates JSON; returns the value or a reason it is not acceptable. */
	parseJson?: (text: string) => { ok: true; value: unknown } | { ok: false; reason: string };
}

/**
 * Classifies an answer that arrived (HTTP 200) but cannot be used. Returns the parsed JSON
 * when JSON was asked for and the answer passed.
 */
export function classifyOutput(
	response: CompletionResponse,
	check: OutputCheck,
): { failure: ClassifiedFailure } | { json?: unknown } {
	if (response.finish === 'refusal' || response.finish === 'content_filter') {
		const why = response.refusalText ? `: ${shortMessage(response.refusalText)}` : '';
		return {
			failure: {
				errorClass: 'refused',
				httpStatus: 200,
				requestId: response.requestId,
				message: `the model refused or was blocked${why}`,
			},
		};
	}
	if (response.finish === 'length' && check.requireComplete) {
		return {
			failure: {
				errorClass: 'truncated',
				httpStatus: 200,
				requestId: response.requestId,
				message: 'the answer was cut off at the output token limit',
			},
		};
	}
	// A reply of tool calls is an answer, and the answer checks below are for text answers.
	if (response.toolCalls?.length) return {};
	if (response.text.trim() === '') {
		return {
			failure: {
				errorClass: 'empty_output',
				httpStatus: 200,
				requestId: response.requestId,
				message: 'the model returned no text',
			},
		};
	}
	if (check.parseJson) {
		const parsed = check.parseJson(response.text);
		if (!parsed.ok) {
			return {
				failure: {
					errorClass: 'invalid_output',
					httpStatus: 200,
					requestId: response.requestId,
					message: parsed.reason,
				},
			};
		}
		return { json: parsed.value };
	}
	return {};
}
