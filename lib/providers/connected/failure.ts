/**
 * The failed HTTP answer inside whatever a connected model threw. n8n wraps the model's last
 * failure in a NodeApiError, LangChain may wrap the SDK's error again, and each SDK has its
 * own shape: the chain of causes is walked, and each level read by the first reader that
 * knows it. Facts behind each reader: shared notes, provider-errors.md.
 */
import { isRecord, str } from '../modelList';
import { headerValue } from '../retryHints';
import { readApiError } from '../stainlessErrors';
import type { WireFailure } from '../types';

type Reader = (error: Record<string, unknown>) => WireFailure | undefined;

const num = (value: unknown): number | undefined =>
	typeof value === 'number' && Number.isInteger(value) ? value : undefined;

function parsedBody(value: unknown): Record<string, unknown> {
	if (isRecord(value)) return isRecord(value.error) ? value.error : value;
	if (typeof value !== 'string') return {};
	try {
		return parsedBody(JSON.parse(value) as unknown);
	} catch {
		return { message: value };
	}
}

/** AWS SDK v3 (Bedrock): `$metadata.httpStatusCode`, the exception's name as its type. */
const awsError: Reader = (error) => {
	const metadata = isRecord(error.$metadata) ? error.$metadata : undefined;
	const status = num(metadata?.httpStatusCode) ?? num(error.$fault === 'server' ? 500 : undefined);
	if (status === undefined || !metadata) return undefined;
	const response = isRecord(error.$response) ? error.$response : {};
	return {
		status,
		headers: response.headers,
		body: { type: str(error.name), message: str(error.message) },
		text: `${str(error.name)}: ${str(error.message)}`,
		requestId: str(metadata.requestId) || undefined,
	};
};

/** @google/generative-ai: `status`, `statusText` and the error's `errorDetails`. */
const googleFetchError: Reader = (error) => {
	const status = num(error.status);
	if (status === undefined || !('errorDetails' in error || 'statusText' in error)) return undefined;
	return {
		status,
		body: { details: error.errorDetails, message: str(error.message) },
		text: str(error.message),
	};
};

/** A client that keeps the whole response: `response.status`, `response.data` or `.body`, headers. */
const responseError: Reader = (error) => {
	const response = isRecord(error.response) ? error.response : undefined;
	const status = num(response?.status) ?? num(response?.statusCode);
	if (status === undefined || !response) return undefined;
	const body = parsedBody(response.data ?? response.body);
	return {
		status,
		headers: response.headers,
		body,
		text: str(body.message) || str(error.message),
	};
};

/** Mistral's and Cohere's SDKs: `statusCode`, a `body` (often JSON text), `rawResponse`. */
const statusCodeError: Reader = (error) => {
	const status = num(error.statusCode) ?? num(error.status_code);
	if (status === undefined) return undefined;
	const raw = isRecord(error.rawResponse) ? error.rawResponse : {};
	const body = parsedBody(error.body ?? error.error);
	return {
		status,
		headers: raw.headers ?? error.headers,
		body,
		text: str(body.message) || str(body.detail) || str(error.message),
	};
};

/** Anything else with a numeric `status` (ollama's ResponseError, fetch-based clients). */
const plainStatus: Reader = (error) => {
	const status = num(error.status);
	if (status === undefined) return undefined;
	const body = parsedBody(error.error ?? error.body);
	return {
		status,
		headers: error.headers,
		body,
		text: str(body.message) || str(error.message),
		requestId: headerValue(error.headers, 'x-request-id'),
	};
};

const READERS: Reader[] = [
	readApiError,
	awsError,
	googleFetchError,
	responseError,
	statusCodeError,
	plainStatus,
];

/**
 * n8n's NodeApiError: `httpCode` as text, from the status it found. Read only when nothing
 * deeper has a status: the SDK's own error below it says more.
 */
function nodeApiError(error: Record<string, unknown>): WireFailure | undefined {
	const status = Number(error.httpCode);
	if (!Number.isInteger(status) || status < 400 || status > 599) return undefined;
	const text = str(error.description) || str(error.message);
	return { status, body: { message: text }, text };
}

/** The first failed HTTP answer along the chain of causes, n8n's own summary last. */
export function readConnectedFailure(error: unknown): WireFailure | undefined {
	let summary: WireFailure | undefined;
	let current: unknown = error;
	for (let depth = 0; depth < 8 && isRecord(current); depth++) {
		for (const read of READERS) {
			const failure = read(current);
			if (failure) return failure;
		}
		summary ??= nodeApiError(current);
		current = current.cause;
	}
	return summary;
}
