/** Reading a provider's model list over plain HTTP: one GET, JSON back. */
import { parseBaseUrl } from './baseUrl';

/** A model list that could not be read; its message names the status, never the key or the Base URL. */
export class ModelListError extends Error {
	constructor(
		readonly status: number | undefined,
		detail: string,
	) {
		super(status === undefined ? detail : `HTTP ${status}: ${detail}`);
		this.name = 'ModelListError';
	}
}

const LIST_TIMEOUT_MS = 15_000;
/** The largest model list read: far above any provider's, far below what would hurt n8n. */
export const MAX_LIST_BYTES = 8 * 1024 * 1024;
/** An error answer is read only this far: its message is near the start. */
const MAX_ERROR_BYTES = 16 * 1024;
const MAX_REDIRECTS = 5;
const MAX_DETAIL_CHARS = 200;

/** The provider's own error message from a JSON error body; anything else is not repeated. */
function errorDetail(text: string, contentType: string): string {
	let message = '';
	try {
		const body = JSON.parse(text) as { error?: unknown; message?: unknown };
		const error = body.error;
		if (typeof error === 'string') message = error;
		else if (error && typeof error === 'object' && 'message' in error)
			message = String((error as { message: unknown }).message);
		else if (typeof body.message === 'string') message = body.message;
	} catch {
		// not JSON: an HTML page or a proxy's text, which could say anything
	}
	// eslint-disable-next-line no-control-regex
	const line = message.replace(/[\u0000-\u001f\u007f\s]+/g, ' ').trim();
	if (!line) {
		const type = /^[\w.+-]+\/[\w.+-]+/.exec(contentType)?.[0];
		return `no API error message in the answer${type ? ` (${type})` : ''}`;
	}
	return line.length > MAX_DETAIL_CHARS ? `${line.slice(0, MAX_DETAIL_CHARS - 3)}...` : line;
}

/** The body as text, or null once it passes `limit` bytes (the rest is not read). */
async function readBounded(response: Response, limit: number): Promise<string | null> {
	if (!response.body) return '';
	const reader = response.body.getReader();
	const chunks: Uint8Array[] = [];
	let size = 0;
	for (;;) {
		const { done, value } = await reader.read();
		if (done) break;
		size += value.byteLength;
		if (size > limit) {
			await reader.cancel().catch(() => undefined);
			return null;
		}
		chunks.push(value);
	}
	return Buffer.concat(chunks).toString('utf8');
}

/**
 * GETs `url` and parses the JSON answer; a failed call throws ModelListError. Redirects are
 * followed only on the same origin: the headers carry the key, which goes to no other host.
 */
export async function getJson(
	url: string,
	headers: Record<string, string>,
	signal?: AbortSignal,
): Promise<unknown> {
	const timeout = AbortSignal.timeout(LIST_TIMEOUT_MS);
	const origin = new URL(url).origin;
	let target = url;
	let response: Response | undefined;
	for (let hop = 0; ; hop++) {
		try {
			response = await fetch(target, {
				headers,
				redirect: 'manual',
				signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
			});
		} catch (error) {
			const cause = (error as { cause?: { code?: string } }).cause?.code;
			throw new ModelListError(
				undefined,
				timeout.aborted
					? 'the provider did not answer in time'
					: `could not connect${cause ? ` (${cause})` : ''}`,
			);
		}
		const location = response.headers.get('location');
		if (response.status < 300 || response.status > 399 || !location) break;
		await response.body?.cancel().catch(() => undefined);
		let next: URL;
		try {
			next = new URL(location, target);
		} catch {
			throw new ModelListError(response.status, 'redirected to an address that is not a URL');
		}
		if (next.origin !== origin)
			throw new ModelListError(
				response.status,
				`redirected to another host (${next.protocol}//${next.host}), where the key is not sent; set the Base URL to where the API is`,
			);
		if (hop >= MAX_REDIRECTS) throw new ModelListError(response.status, 'too many redirects');
		target = next.href;
	}
	const contentType = response.headers.get('content-type') ?? '';
	if (!response.ok) {
		const text = await readBounded(response, MAX_ERROR_BYTES);
		throw new ModelListError(response.status, errorDetail(text ?? '', contentType));
	}
	const text = await readBounded(response, MAX_LIST_BYTES);
	if (text === null)
		throw new ModelListError(
			response.status,
			`the answer is too large for a model list (over ${MAX_LIST_BYTES / 1024 / 1024} MiB)`,
		);
	try {
		return JSON.parse(text) as unknown;
	} catch {
		throw new ModelListError(response.status, 'the answer is not JSON');
	}
}

/**
 * A base URL with an API path (and query) appended, without doubling or dropping the slash.
 * The base must be an http(s) URL without query or fragment, or ModelListError says why.
 */
export function joinUrl(base: string, path: string): string {
	const url = parseBaseUrl(base);
	if (typeof url === 'string') throw new ModelListError(undefined, `the Base URL ${url}`);
	const [pathname, query] = path.split('?', 2);
	url.pathname = `${url.pathname.replace(/\/+$/, '')}/${pathname.replace(/^\/+/, '')}`;
	url.search = query ? `?${query}` : '';
	return url.href;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string {
	return typeof value === 'string' ? value : '';
}
