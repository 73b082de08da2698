import { ModelListError } from '../modelList';
import { listOpenAiModels } from '../openai';
import { OpenAiAdapter } from '../openai/adapter';
import { hintFromMessage } from '../retryHints';
import { CONNECTION_WORDS, readApiError } from '../stainlessErrors';
import type { ProviderDescriptor } from '../types';
import { readOpenAiLimits } from '../openai/rateLimits';

/** Any server that speaks OpenAI's chat completions API: vLLM, LM Studio, a gateway. */
export const openaiCompatible = {
	id: 'openai_compatible',
	label: 'OpenAI-Compatible',
	hint: 'vLLM, LM Studio, a gateway: uses the OpenAI-Compatible credential, or none for a server that takes no key',
	credential: {
		type: 'resilientLlmOpenAiCompatibleApi',
		displayName: 'Resilient LLM: OpenAI-Compatible API',
	},
	// Workflows saved before this provider had its own credential read the OpenAI one.
	fallbackCredential: { type: 'resilientLlmOpenAiApi', displayName: 'Resilient LLM: OpenAI API' },
	needsKey: false,
	baseUrlReplacesCredential: true,
	wire: 'openai',
	models: ['llama3.2'],
	overloadedStatus: 503,
	prefill: false,
	createAdapter: (settings) => new OpenAiAdapter(settings, true),
	async listModels(connection, signal) {
		if (!connection.baseUrl)
			throw new ModelListError(undefined, "set the credential's Base URL (or the tier's) first");
		return listOpenAiModels(connection.baseUrl, connection, signal);
	},
	retryHint: (failure) => hintFromMessage(failure.text),
	readFailure: readApiError,
	readRateLimits: readOpenAiLimits,
	connectionWords: CONNECTION_WORDS,
} as const satisfies ProviderDescriptor<'openai_compatible'>;
