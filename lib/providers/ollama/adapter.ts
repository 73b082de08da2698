import { MalformedResponseError, ProviderHttpError } from '../httpError';
import { fetchWithoutRedirects } from '../fetchWithoutRedirects';
import { functionTools } from '../messageMapping';
import type {
	AdapterSettings,
	CallOptions,
	ChatMessage,
	CompletionRequest,
	CompletionResponse,
	ProviderAdapter,
	StreamEvent,
} from '../types';
import { finishOf, readOllamaStream, toolCallsOf } from './stream';
import type { OllamaChatResponse } from './stream';

/**
 * Ollama's chat messages: tool calls on the assistant turn with arguments as an object, each
 * result a "tool" message naming its tool (Ollama's calls have no ids of their own).
 */
export function toOllamaMessages(messages: ChatMessage[]): Record<string, unknown>[] {
	return messages.map((message) => {
		switch (message.role) {
			case 'system':
				return { role: 'system', content: message.content };
			case 'user':
				return {
					role: 'user',
					content: message.content,
					...(message.images?.length ? { images: message.images.map((image) => image.data) } : {}),
				};
			case 'tool':
				return {
					role: 'tool',
					content: message.content,
					tool_name: message.name,
					tool_call_id: message.toolCallId,
				};
			case 'assistant':
				return {
					role: 'assistant',
					content: message.content,
					...(message.toolCalls?.length
						? {
								tool_calls: message.toolCalls.map((call) => ({
									function: { name: call.name, arguments: call.arguments },
								})),
							}
						: {}),
				};
		}
	});
}

export const DEFAULT_OLLAMA_URL = 'http://127.0.0.1:11434';

/** Ollama's native /api/chat. No SDK: it is one JSON request, answered whole or as NDJSON. */
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

	/** One POST to /api/chat, streamed or not; a non-2xx answer throws with its body. */
	private async post(
		request: CompletionRequest,
		options: CallOptions,
		stream: boolean,
	): Promise<Response> {
		const tools = request.tools ?? [];
		const response = await fetchWithoutRedirects(this.url, {
			method: 'POST',
			headers: this.headers,
			body: JSON.stringify({
				model: request.model,
				messages: toOllamaMessages(request.messages),
				...(tools.length > 0 ? { tools: functionTools(tools) } : {}),
				stream,
				...(request.json ? { format: 'json' } : {}),
				options: {
					num_predict: request.maxOutputTokens,
					...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
				},
			}),
			signal: AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]),
		});
		if (response.ok) return response;
		const raw = await response.text();
		let body: unknown = raw;
		try {
			body = JSON.parse(raw);
		} catch {
			// Not JSON: the error is the text itself.
		}
		throw new ProviderHttpError(response.status, body, response.headers);
	}

	async complete(request: CompletionRequest, options: CallOptions): Promise<CompletionResponse> {
		const raw = await (await this.post(request, options, false)).text();
		let chat: OllamaChatResponse;
		try {
			chat = JSON.parse(raw) as OllamaChatResponse;
		} catch {
			throw new MalformedResponseError('ollama');
		}
		const toolCalls = toolCallsOf(chat);
		return {
			text: chat.message?.content ?? '',
			...(toolCalls.length > 0 ? { toolCalls } : {}),
			finish: finishOf(chat.done_reason),
			usage: { inputTokens: chat.prompt_eval_count ?? 0, outputTokens: chat.eval_count ?? 0 },
			model: chat.model ?? request.model,
		};
	}

	async *stream(request: CompletionRequest, options: CallOptions): AsyncGenerator<StreamEvent> {
		const response = await this.post(request, options, true);
		yield* readOllamaStream(response, { model: request.model, signal: options.signal });
	}
}
