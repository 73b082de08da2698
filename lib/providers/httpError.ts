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

/** A 2xx answer whose body was not the JSON the provider promised. */
export class MalformedResponseError extends Error {
	constructor(readonly provider: string) {
		super(`${provider} sent a response body that is not valid JSON`);
		this.name = 'MalformedResponseError';
	}
}
