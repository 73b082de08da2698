import OpenAI from 'openai';

import { functionTools, parseToolArguments } from '../messageMapping';
import { readOpenAiLimits } from './rateLimits';
import { fetchWithoutRedirects } from '../fetchWithoutRedirects';
import { readOpenAiStream } from './stream';
import type {
	AdapterSettings,
	CallOptions,
	ChatMessage,
	CompletionRequest,
	CompletionResponse,
	FinishReason,
	ProviderAdapter,
	StreamEvent,
	ToolCall,
} from '../types';

const FINISH: Record<string, FinishReason> = {
	stop: 'stop',
	tool_calls: 'stop',
	function_call: 'stop',
	length: 'length',
	content_filter: 'content_filter',
};

function finishOf(finishReason: string | null): FinishReason {
	return FINISH[finishReason ?? ''] ?? 'other';
}

/** Chat completions messages: tool calls on the assistant turn, each result a "tool" message. */
export function toOpenAiMessages(
	messages: ChatMessage[],
): OpenAI.Chat.ChatCompletionMessageParam[] {
	return messages.map((message): OpenAI.Chat.ChatCompletionMessageParam => {
		switch (message.role) {
			case 'system':
				return { role: 'system', content: message.content };
			case 'user':
				if (!message.images?.length) return { role: 'user', content: message.content };
				return {
					role: 'user',
					content: [
						...(message.content ? [{ type: 'text' as const, text: message.content }] : []),
						...message.images.map((image) => ({
							type: 'image_url' as const,
							image_url: { url: `data:${image.mediaType};base64,${image.data}` },
						})),
					],
				};
			case 'tool':
				return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
			case 'assistant': {
				const calls = message.toolCalls ?? [];
				if (calls.length === 0) return { role: 'assistant', content: message.content };
				return {
					role: 'assistant',
					content: message.content === '' ? null : message.content,
					tool_calls: calls.map((call) => ({
						id: call.id,
						type: 'function',
						function: { name: call.name, arguments: JSON.stringify(call.arguments) },
					})),
				};
			}
		}
	});
}

/** OpenAI itself, and any endpoint that speaks its chat completions API (vLLM, LM Studio, Ollama's /v1, gateways). */
export class OpenAiAdapter implements ProviderAdapter {
	readonly provider: 'openai' | 'openai_compatible';
	private readonly client: OpenAI;

	constructor(settings: AdapterSettings, compatible = false) {
		this.provider = compatible ? 'openai_compatible' : 'openai';
		this.client = new OpenAI({
			// Many self-hosted endpoints take no key, but the SDK insists on one; it is not sent.
			apiKey: settings.apiKey || 'no-key',
			...(settings.apiKey ? {} : { defaultHeaders: { authorization: null } }),
			baseURL: settings.baseUrl,
			maxRetries: 0,
			fetch: fetchWithoutRedirects,
			timeout: settings.timeoutMs,
		});
	}

	/** The request both calls send, streamed or not. */
	private params(request: CompletionRequest): OpenAI.Chat.ChatCompletionCreateParamsNonStreaming {
		const tools = request.tools ?? [];
		return {
			model: request.model,
			messages: toOpenAiMessages(request.messages),
			...(tools.length > 0 ? { tools: functionTools(tools) } : {}),
			// OpenAI's newer models reject max_tokens; compatible servers mostly know only max_tokens.
			...(this.provider === 'openai'
				? { max_completion_tokens: request.maxOutputTokens }
				: { max_tokens: request.maxOutputTokens }),
			...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
			...(request.json ? { response_format: { type: 'json_object' as const } } : {}),
		};
	}

	async complete(request: CompletionRequest, options: CallOptions): Promise<CompletionResponse> {
		const {
			data: completion,
			response,
			request_id,
		} = await this.client.chat.completions
			.create(this.params(request), { signal: options.signal, timeout: options.timeoutMs })
			.withResponse();
		const rateLimit = readOpenAiLimits(response.headers);
		const choice = completion.choices[0];
		const refusal = choice?.message.refusal ?? undefined;
		let finish = finishOf(choice?.finish_reason ?? null);
		if (refusal) finish = 'refusal';
		const toolCalls: ToolCall[] = (choice?.message.tool_calls ?? []).flatMap((call) =>
			call.type === 'function'
				? [
						{
							id: call.id,
							name: call.function.name,
							arguments: parseToolArguments(this.provider, call.function.arguments),
						},
					]
				: [],
		);
		return {
			text: choice?.message.content ?? '',
			...(toolCalls.length > 0 ? { toolCalls } : {}),
			finish,
			refusalText: refusal,
			usage: {
				inputTokens: completion.usage?.prompt_tokens ?? 0,
				outputTokens: completion.usage?.completion_tokens ?? 0,
			},
			requestId: request_id ?? undefined,
			model: completion.model,
			...(rateLimit ? { rateLimit } : {}),
		};
	}

	async *stream(request: CompletionRequest, options: CallOptions): AsyncGenerator<StreamEvent> {
		const { data, request_id, response } = await this.client.chat.completions
			.create(
				{ ...this.params(request), stream: true, stream_options: { include_usage: true } },
				{ signal: options.signal, timeout: options.timeoutMs },
			)
			.withResponse();
		yield* readOpenAiStream(data, {
			provider: this.provider,
			requestId: request_id ?? undefined,
			rateLimit: readOpenAiLimits(response.headers),
			signal: options.signal,
			finishOf,
		});
	}
}
