import { MalformedResponseError, ProviderHttpError } from '../httpError';
import type {
	AdapterSettings,
	CallOptions,
	CompletionRequest,
	CompletionResponse,
	FinishReason,
	ProviderAdapter,
} from '../types';

interface OllamaChatResponse {
	model?: string;
	message?: { content?: string };
	done_reason?: string;
	prompt_eval_count?: number;
	eval_count?: number;
}

export const DEFAULT_OLLAMA_URL = 'http://127.0.0.1:11434';

const FINISH: Record<string, FinishReason> = { stop: 'stop', length: 'length' };

/** Ollama's native /api/chat, non-streaming. No SDK: it is one JSON request. */
export class OllamaAdapter implements ProviderAdapter {
	readonly provider = 'ollama' as const;
	private readonly url: string;
	private readonly headers: Record<string, string>;

	constructor(settings: AdapterSettings) {
		const base = (settings.baseUrl || DEFAULT_OLLAMA_URL).replace(/\/+$/, '');
		this.url = `${base}/api/chat`;
		this.headers = { 'content-type': 'application/json' };
		// Ollama needs no key locally; a proxy or Ollama's cloud in front of it may.
		if (settings.apiKey) this.headers.authorization = `Bearer ${settings.apiKey}`;
	}

	async complete(request: CompletionRequest, options: CallOptions): Promise<CompletionResponse> {
		const messages = [];
		if (request.systemPrompt) messages.push({ role: 'system', content: request.systemPrompt });
		messages.push({ role: 'user', content: request.prompt });
		const response = await fetch(this.url, {
			method: 'POST',
			headers: this.headers,
			body: JSON.stringify({
				model: request.model,
				messages,
				stream: false,
				...(request.json ? { format: 'json' } : {}),
				options: {
					num_predict: request.maxOutputTokens,
					...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
				},
			}),
			signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]),
		});
		const raw = await response.text();
		let body: unknown;
		try {
			body = JSON.parse(raw);
		} catch {
			if (!response.ok) throw new ProviderHttpError(response.status, raw, response.headers);
			throw new MalformedResponseError('ollama');
		}
		if (!response.ok) throw new ProviderHttpError(response.status, body, response.headers);
		const chat = body as OllamaChatResponse;
		return {
			text: chat.message?.content ?? '',
			finish: FINISH[chat.done_reason ?? 'stop'] ?? 'other',
			usage: { inputTokens: chat.prompt_eval_count ?? 0, outputTokens: chat.eval_count ?? 0 },
			model: chat.model ?? request.model,
		};
	}
}
