import { getJson, isRecord, joinUrl, str } from '../modelList';
import { CONNECTION_WORDS, readApiError } from '../stainlessErrors';
import type { ModelInfo, ProviderDescriptor } from '../types';
import { AnthropicAdapter, anthropicRoot } from './adapter';
import { readAnthropicLimits } from './rateLimits';

const DEFAULT_BASE_URL = 'https://api.anthropic.com';
/** Pages of 1,000 models; a bound, not an expectation. */
const MAX_PAGES = 10;

export const anthropic = {
	id: 'anthropic',
	label: 'Anthropic',
	credential: { type: 'resilientLlmAnthropicApi', displayName: 'Resilient LLM: Anthropic API' },
	needsKey: true,
	baseUrlReplacesCredential: false,
	defaultBaseUrl: DEFAULT_BASE_URL,
	wire: 'anthropic',
	models: ['claude-haiku-4-5', 'claude-sonnet-4-5'],
	overloadedStatus: 529,
	prefill: true,
	createAdapter: (settings) => new AnthropicAdapter(settings),

	async listModels(connection, signal) {
		const models: ModelInfo[] = [];
		let after = '';
		for (let page = 0; page < MAX_PAGES; page++) {
			const url = joinUrl(
				anthropicRoot(connection.baseUrl || DEFAULT_BASE_URL),
				`/v1/models?limit=1000${after ? `&after_id=${encodeURIComponent(after)}` : ''}`,
			);
			const body = await getJson(
				url,
				{ 'x-api-key': connection.apiKey ?? '', 'anthropic-version': '2023-06-01' },
				signal,
			);
			const data = isRecord(body) && Array.isArray(body.data) ? body.data : [];
			for (const entry of data) {
				if (isRecord(entry) && str(entry.id))
					models.push({ id: str(entry.id), name: str(entry.display_name) || undefined });
			}
			if (!isRecord(body) || body.has_more !== true || !str(body.last_id)) break;
			after = str(body.last_id);
		}
		return models;
	},

	classifyHttp(failure) {
		// A spend limit arrives as a 429 like a rate limit, but waiting never clears it.
		const details = isRecord(failure.body.details) ? failure.body.details : {};
		if (failure.status === 429 && /spend_limit/.test(str(details.error_code)))
			return 'quota_exhausted';
		return undefined;
	},
	readFailure: readApiError,
	readRateLimits: readAnthropicLimits,
	connectionWords: CONNECTION_WORDS,
} as const satisfies ProviderDescriptor<'anthropic'>;
