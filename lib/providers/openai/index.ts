import { getJson, isRecord, joinUrl, str } from '../modelList';
import { hintFromMessage } from '../retryHints';
import { CONNECTION_WORDS, readApiError } from '../stainlessErrors';
import type { Connection, ModelInfo, ProviderDescriptor } from '../types';
import { OpenAiAdapter } from './adapter';
import { readOpenAiLimits } from './rateLimits';

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/** OpenAI's own list also holds embedding, audio and image models, which cannot chat. */
const NOT_CHAT =
	/embedding|whisper|tts|dall-e|davinci|babbage|moderation|image|transcribe|realtime|audio|search/i;

/** `GET /models` of OpenAI's API, which every OpenAI-compatible server serves too. */
export async function listOpenAiModels(
	baseUrl: string,
	connection: Connection,
	signal?: AbortSignal,
): Promise<ModelInfo[]> {
	const headers: Record<string, string> = connection.apiKey
		? { authorization: `Bearer ${connection.apiKey}` }
		: {};
	const body = await getJson(joinUrl(baseUrl, '/models'), headers, signal);
	const data = isRecord(body) && Array.isArray(body.data) ? body.data : [];
	return data.filter(isRecord).flatMap((entry) => (str(entry.id) ? [{ id: str(entry.id) }] : []));
}

export const openai = {
	id: 'openai',
	label: 'OpenAI',
	credential: { type: 'resilientLlmOpenAiApi', displayName: 'Resilient LLM: OpenAI API' },
	needsKey: true,
	baseUrlReplacesCredential: false,
	defaultBaseUrl: DEFAULT_BASE_URL,
	wire: 'openai',
	models: ['gpt-4o-mini', 'gpt-4.1-mini'],
	overloadedStatus: 503,
	prefill: false,
	createAdapter: (settings) => new OpenAiAdapter(settings),
	async listModels(connection, signal) {
		const models = await listOpenAiModels(
			connection.baseUrl || DEFAULT_BASE_URL,
			connection,
			signal,
		);
		return models.filter((m) => !NOT_CHAT.test(m.id));
	},
	retryHint: (failure) => hintFromMessage(failure.text),
	readFailure: readApiError,
	readRateLimits: readOpenAiLimits,
	connectionWords: CONNECTION_WORDS,
} as const satisfies ProviderDescriptor<'openai'>;
