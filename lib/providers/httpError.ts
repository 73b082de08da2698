/** A non-2xx answer from a provider reached without an SDK (Ollama's native API). */
export class ProviderHttpError extends Error {
	constructor(
		readonly status: number,
		readonly body: unknown,
		readonly headers: Headers,
	) {
		super(`HTTP ${status}`);
		this.name = 'ProviderHttpError';
	}
}

export const MALFORMED_BODY = 'a response body that is not valid JSON';

/** A 2xx answer whose body was not the JSON the provider promised. */
export class MalformedResponseError extends Error {
	constructor(
		readonly provider: string,
		/** What was malformed, when it was not the whole body. */
		readonly what = MALFORMED_BODY,
	) {
		super(`${provider} sent ${what}`);
		this.name = 'MalformedResponseError';
	}
}
