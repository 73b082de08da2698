import type { ProviderName } from '../engine/types';
import { AnthropicAdapter } from './anthropic';
import { GeminiAdapter } from './gemini';
import { OllamaAdapter } from './ollama';
import { OpenAiAdapter } from './openai';
import type { AdapterSettings, ProviderAdapter } from './types';

export type { ProviderAdapter, CompletionRequest, CompletionResponse, CallOptions } from './types';

/** The one place that maps a provider name to its adapter. */
export function createAdapter(provider: ProviderName, settings: AdapterSettings): ProviderAdapter {
	switch (provider) {
		case 'anthropic':
			return new AnthropicAdapter(settings);
		case 'openai':
			return new OpenAiAdapter(settings);
		case 'openai_compatible':
			return new OpenAiAdapter(settings, true);
		case 'gemini':
			return new GeminiAdapter(settings);
		case 'ollama':
			return new OllamaAdapter(settings);
	}
}
