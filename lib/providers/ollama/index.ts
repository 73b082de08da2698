import { getJson, isRecord, joinUrl, str } from '../modelList';
import { hintFromMessage } from '../retryHints';
import type { ProviderDescriptor } from '../types';
import { DEFAULT_OLLAMA_URL, OllamaAdapter } from './adapter';

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
} as const satisfies ProviderDescriptor<'ollama'>;
