import { ModelListError } from '../modelList';
import { listOpenAiModels } from '../openai';
import { OpenAiAdapter } from '../openai/adapter';
import { hintFromMessage } from '../retryHints';
import type { ProviderDescriptor } from '../types';

/** Any server that speaks OpenAI's chat completions API: vLLM, LM Studio, a gateway. */
export const openaiCompatible = {
	id: 'openai_compatible',
	label: 'OpenAI-Compatible',
	hint: "vLLM, LM Studio, a gateway: uses the OpenAI credential and the tier's Base URL",
	credential: { type: 'resilientLlmOpenAiApi', displayName: 'Resilient LLM: OpenAI API' },
	needsKey: false,
	baseUrlReplacesCredential: true,
	wire: 'openai',
	models: ['llama3.2'],
	overloadedStatus: 503,
	createAdapter: (settings) => new OpenAiAdapter(settings, true),
	async listModels(connection, signal) {
		if (!connection.baseUrl)
			throw new ModelListError(undefined, "set the tier's Base URL (or the credential's) first");
		return listOpenAiModels(connection.baseUrl, connection, signal);
	},
	retryHint: (failure) => hintFromMessage(failure.text),
} as const satisfies ProviderDescriptor<'openai_compatible'>;
