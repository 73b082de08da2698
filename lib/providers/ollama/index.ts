import { ProviderHttpError } from '../httpError';
import { getJson, isRecord, joinUrl, str } from '../modelList';
import { hintFromMessage } from '../retryHints';
import type { ProviderDescriptor, WireFailure } from '../types';
import { DEFAULT_OLLAMA_URL, OllamaAdapter } from './adapter';

/** The adapter's own error for a non-2xx answer; Ollama's error body is `{"error": "text"}`. */
function readOllamaFailure(error: unknown): WireFailure | undefined {
	if (!(error instanceof ProviderHttpError)) return undefined;
	const body = isRecord(error.body) ? error.body : {};
	const text = typeof error.body === 'string' ? error.body : str(body.error);
	return { status: error.status, headers: error.headers, body, text };
}

export const ollama = {
	id: 'ollama',
	label: 'Ollama',
	credential: { type: 'resilientLlmOllamaApi', displayName: 'Resilient LLM: Ollama API' },
	needsKey: false,
	baseUrlReplacesCredential: true,
	defaultBaseUrl: DEFAULT_OLLAMA_URL,
	wire: 'ollama',
	models: ['llama3.2', 'qwen2.5'],
	overloadedStatus: 503,
	prefill: false,
	createAdapter: (settings) => new OllamaAdapter(settings),
	async listModels(connection, signal) {
		// A local Ollama needs no key; a proxy or Ollama's cloud in front of it may.
		const headers: Record<string, string> = connection.apiKey
			? { authorization: `Bearer ${connection.apiKey}` }
			: {};
		const body = await getJson(
			joinUrl(connection.baseUrl || DEFAULT_OLLAMA_URL, '/api/tags'),
			headers,
			signal,
		);
		const list = isRecord(body) && Array.isArray(body.models) ? body.models : [];
		return list
			.filter(isRecord)
			.flatMap((entry) => (str(entry.name) ? [{ id: str(entry.name) }] : []));
	},
	retryHint: (failure) => hintFromMessage(failure.text, 'ollama-message'),
	readFailure: readOllamaFailure,
} as const satisfies ProviderDescriptor<'ollama'>;
