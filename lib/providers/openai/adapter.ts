import OpenAI from 'openai';

import type {
	AdapterSettings,
	CallOptions,
	CompletionRequest,
	CompletionResponse,
	FinishReason,
	ProviderAdapter,
} from '../types';

const FINISH: Record<string, FinishReason> = {
	stop: 'stop',
	tool_calls: 'stop',
	function_call: 'stop',
	length: 'length',
	content_filter: 'content_filter',
};

/** OpenAI itself, and any endpoint that speaks its chat completions API (vLLM, LM Studio, Ollama's /v1, gateways). */
export class OpenAiAdapter implements ProviderAdapter {
	readonly provider: 'openai' | 'openai_compatible';
	private readonly client: OpenAI;

	constructor(settings: AdapterSettings, compatible = false) {
		this.provider = compatible ? 'openai_compatible' : 'openai';
		this.client = new OpenAI({
			// Many self-hosted endpoints take no key, but the SDK insists on one.
			apiKey: settings.apiKey || 'no-key',
			baseURL: settings.baseUrl,
			maxRetries: 0,
			timeout: settings.timeoutMs,
		});
	}

	async complete(request: CompletionRequest, options: CallOptions): Promise<CompletionResponse> {
		const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [];
		if (request.systemPrompt) messages.push({ role: 'system', content: request.systemPrompt });
		messages.push({ role: 'user', content: request.prompt });
		const completion = await this.client.chat.completions.create(
			{
				model: request.model,
				messages,
				// OpenAI's newer models reject max_tokens; compatible servers mostly know only max_tokens.
				...(this.provider === 'openai'
					? { max_completion_tokens: request.maxOutputTokens }
					: { max_tokens: request.maxOutputTokens }),
				...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
				...(request.json ? { response_format: { type: 'json_object' as const } } : {}),
			},
			{ signal: options.signal, timeout: options.timeoutMs },
		);
		const choice = completion.choices[0];
		const refusal = choice?.message.refusal ?? undefined;
		let finish: FinishReason = FINISH[choice?.finish_reason ?? ''] ?? 'other';
		if (refusal) finish = 'refusal';
		return {
			text: choice?.message.content ?? '',
			finish,
			refusalText: refusal,
			usage: {
				inputTokens: completion.usage?.prompt_tokens ?? 0,
				outputTokens: completion.usage?.completion_tokens ?? 0,
			},
			requestId: completion._request_id ?? undefined,
			model: completion.model,
		};
	}
}
