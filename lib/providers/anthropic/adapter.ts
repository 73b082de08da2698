import Anthropic from '@anthropic-ai/sdk';

import type {
	AdapterSettings,
	CallOptions,
	CompletionRequest,
	CompletionResponse,
	FinishReason,
	ProviderAdapter,
} from '../types';

const FINISH: Record<string, FinishReason> = {
	end_turn: 'stop',
	stop_sequence: 'stop',
	tool_use: 'stop',
	pause_turn: 'stop',
	max_tokens: 'length',
	model_context_window_exceeded: 'length',
	refusal: 'refusal',
};

export class AnthropicAdapter implements ProviderAdapter {
	readonly provider = 'anthropic' as const;
	private readonly client: Anthropic;

	constructor(settings: AdapterSettings) {
		// maxRetries 0: the engine owns every retry and the whole time budget.
		this.client = new Anthropic({
			apiKey: settings.apiKey,
			baseURL: settings.baseUrl,
			maxRetries: 0,
			timeout: settings.timeoutMs,
		});
	}

	async complete(request: CompletionRequest, options: CallOptions): Promise<CompletionResponse> {
		const message = await this.client.messages.create(
			{
				model: request.model,
				max_tokens: request.maxOutputTokens,
				...(request.systemPrompt ? { system: request.systemPrompt } : {}),
				...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
				messages: [{ role: 'user', content: request.prompt }],
			},
			{ signal: options.signal, timeout: options.timeoutMs },
		);
		const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
		const finish = FINISH[message.stop_reason ?? ''] ?? 'other';
		return {
			text,
			finish,
			refusalText: finish === 'refusal' ? text : undefined,
			usage: {
				inputTokens: message.usage.input_tokens,
				outputTokens: message.usage.output_tokens,
			},
			requestId: message._request_id ?? undefined,
			model: message.model,
		};
	}
}
