/** Reading a provider's model list over plain HTTP: one GET, JSON back. */

/** A model list that could not be read; its message names the status, never the key or the URL. */
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

function errorDetail(text: string): string {
	try {
		const body = JSON.parse(text) as { error?: unknown; message?: unknown };
		const error = body.error;
		if (typeof error === 'string') return error;
		if (error && typeof error === 'object' && 'message' in error)
			return String((error as { message: unknown }).message);
		if (typeof body.message === 'string') return body.message;
	} catch {
		// not JSON: fall through
	}
	const line = text.replace(/\s+/g, ' ').trim();
	return line.length > 200 ? `${line.slice(0, 197)}...` : line || 'no message';
}

/** GETs `url` and parses the JSON answer; a failed call throws ModelListError. */
export async function getJson(
	url: string,
	headers: Record<string, string>,
	signal?: AbortSignal,
): Promise<unknown> {
	const timeout = AbortSignal.timeout(LIST_TIMEOUT_MS);
	let response: Response;
	try {
		response = await fetch(url, {
			headers,
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
	const text = await response.text();
	if (!response.ok) throw new ModelListError(response.status, errorDetail(text));
	try {
		return JSON.parse(text) as unknown;
	} catch {
		throw new ModelListError(response.status, 'the answer is not JSON');
	}
}

/** Joins a base URL and a path without doubling or dropping the slash. */
export function joinUrl(base: string, path: string): string {
	return `${base.replace(/\/+$/, '')}/${path.replace(/^\/+/, '')}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string {
	return typeof value === 'string' ? value : '';
}
