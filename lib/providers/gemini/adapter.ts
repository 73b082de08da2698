import { GoogleGenAI } from '@google/genai';

import type {
	AdapterSettings,
	CallOptions,
	CompletionRequest,
	CompletionResponse,
	FinishReason,
	ProviderAdapter,
} from '../types';

const FINISH: Record<string, FinishReason> = {
	STOP: 'stop',
	MAX_TOKENS: 'length',
	SAFETY: 'content_filter',
	RECITATION: 'content_filter',
	BLOCKLIST: 'content_filter',
	PROHIBITED_CONTENT: 'content_filter',
	SPII: 'content_filter',
	IMAGE_SAFETY: 'content_filter',
};

/** Google Gemini through @google/genai (the older @google/generative-ai reached end of life on 2025-08-31). */
export class GeminiAdapter implements ProviderAdapter {
	readonly provider = 'gemini' as const;
	private readonly client: GoogleGenAI;

	constructor(settings: AdapterSettings) {
		this.client = new GoogleGenAI({
			apiKey: settings.apiKey,
			httpOptions: {
				...(settings.baseUrl ? { baseUrl: settings.baseUrl } : {}),
				timeout: settings.timeoutMs,
			},
		});
	}

	async complete(request: CompletionRequest, options: CallOptions): Promise<CompletionResponse> {
		const response = await this.client.models.generateContent({
			model: request.model,
			contents: request.prompt,
			config: {
				abortSignal: options.signal,
				maxOutputTokens: request.maxOutputTokens,
				...(request.systemPrompt ? { systemInstruction: request.systemPrompt } : {}),
				...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
				...(request.json ? { responseMimeType: 'application/json' } : {}),
				httpOptions: { timeout: options.timeoutMs },
			},
		});
		const candidate = response.candidates?.[0];
		const blockReason = response.promptFeedback?.blockReason;
		const text = (candidate?.content?.parts ?? [])
			.map((part) => (part.thought ? '' : (part.text ?? '')))
			.join('');
		let finish: FinishReason = FINISH[candidate?.finishReason ?? ''] ?? 'other';
		if (!candidate && blockReason) finish = 'refusal';
		const usage = response.usageMetadata;
		return {
			text,
			finish,
			refusalText: blockReason
				? `prompt blocked: ${blockReason}`
				: finish === 'content_filter'
					? `answer blocked: ${candidate?.finishReason}`
					: undefined,
			usage: {
				inputTokens: usage?.promptTokenCount ?? 0,
				// Thinking tokens are billed as output.
				outputTokens: (usage?.candidatesTokenCount ?? 0) + (usage?.thoughtsTokenCount ?? 0),
			},
			requestId: response.responseId,
			model: response.modelVersion ?? request.model,
		};
	}
}
