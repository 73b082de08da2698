import Anthropic from '@anthropic-ai/sdk';

import { parseToolArguments, systemText } from '../messageMapping';
import { fetchWithoutRedirects } from '../fetchWithoutRedirects';
import { readAnthropicLimits } from './rateLimits';
import { readAnthropicStream } from './stream';
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
	ToolDefinition,
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

function finishOf(stopReason: string | null): FinishReason {
	return FINISH[stopReason ?? ''] ?? 'other';
}

type Block = Anthropic.ContentBlockParam;

/** The blocks of the conversation's last turn when it is the user's, as a list, to add to. */
function userBlocks(turns: Anthropic.MessageParam[]): Block[] | undefined {
	const last = turns[turns.length - 1];
	if (last?.role !== 'user') return undefined;
	if (typeof last.content === 'string') last.content = [{ type: 'text', text: last.content }];
	return last.content as Block[];
}

/** A user message: its text and images, joining the user turn already open (after tool results). */
function addUserMessage(
	turns: Anthropic.MessageParam[],
	message: Extract<ChatMessage, { role: 'user' }>,
): void {
	const images = (message.images ?? []).map(
		(image): Block => ({
			type: 'image',
			source: { type: 'base64', media_type: image.mediaType, data: image.data },
		}),
	);
	const blocks = userBlocks(turns);
	if (blocks) {
		if (message.content || images.length === 0)
			blocks.push({ type: 'text', text: message.content });
		blocks.push(...images);
	} else if (images.length === 0) turns.push({ role: 'user', content: message.content });
	else
		turns.push({
			role: 'user',
			// Anthropic rejects empty text blocks; an image alone is a question too.
			content: [
				...(message.content ? [{ type: 'text' as const, text: message.content }] : []),
				...images,
			],
		});
}

/**
 * Anthropic's turns: system text apart, tool calls as tool_use blocks of the assistant, and
 * tool results as tool_result blocks of the user turn that follows (several results, and any
 * text after them, share that one turn).
 */
export function toAnthropicMessages(messages: ChatMessage[]): Anthropic.MessageParam[] {
	const turns: Anthropic.MessageParam[] = [];
	for (const message of messages) {
		switch (message.role) {
			case 'system':
				break;
			case 'user':
				addUserMessage(turns, message);
				break;
			case 'tool': {
				const block: Block = {
					type: 'tool_result',
					tool_use_id: message.toolCallId,
					content: message.content,
				};
				const blocks = userBlocks(turns);
				if (blocks) blocks.push(block);
				else turns.push({ role: 'user', content: [block] });
				break;
			}
			case 'assistant': {
				const calls = message.toolCalls ?? [];
				if (calls.length === 0) {
					// Anthropic rejects empty text blocks; an empty turn says nothing anyway.
					if (message.content !== '') turns.push({ role: 'assistant', content: message.content });
					break;
				}
				const blocks: Block[] = message.content ? [{ type: 'text', text: message.content }] : [];
				for (const call of calls)
					blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: call.arguments });
				turns.push({ role: 'assistant', content: blocks });
				break;
			}
		}
	}
	return turns;
}

export function toAnthropicTools(tools: ToolDefinition[]): Anthropic.Tool[] {
	return tools.map((tool) => ({
		name: tool.name,
		...(tool.description ? { description: tool.description } : {}),
		input_schema: tool.parameters as Anthropic.Tool.InputSchema,
	}));
}

/**
 * The API's root: Anthropic's paths start with /v1, so a Base URL that already ends in /v1
 * (as OpenAI's do) is taken as meant rather than doubled.
 */
export function anthropicRoot(baseUrl: string): string {
	return baseUrl.trim().replace(/\/+$/, '').replace(/\/v1$/, '');
}

export class AnthropicAdapter implements ProviderAdapter {
	readonly provider = 'anthropic' as const;
	private readonly client: Anthropic;

	constructor(settings: AdapterSettings) {
		// maxRetries 0: the engine owns every retry and the whole time budget.
		this.client = new Anthropic({
			apiKey: settings.apiKey,
			baseURL: settings.baseUrl ? anthropicRoot(settings.baseUrl) : undefined,
			maxRetries: 0,
			fetch: fetchWithoutRedirects,
			timeout: settings.timeoutMs,
		});
	}

	/** The request both calls send, streamed or not. */
	private params(request: CompletionRequest): Anthropic.MessageCreateParamsNonStreaming {
		const system = systemText(request.messages);
		const tools = request.tools ?? [];
		return {
			model: request.model,
			max_tokens: request.maxOutputTokens,
			...(system ? { system } : {}),
			...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
			messages: toAnthropicMessages(request.messages),
			...(tools.length > 0 ? { tools: toAnthropicTools(tools) } : {}),
		};
	}

	async complete(request: CompletionRequest, options: CallOptions): Promise<CompletionResponse> {
		const {
			data: message,
			response,
			request_id,
		} = await this.client.messages
			.create(this.params(request), { signal: options.signal, timeout: options.timeoutMs })
			.withResponse();
		const rateLimit = readAnthropicLimits(response.headers);
		const text = message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');
		const toolCalls: ToolCall[] = message.content.flatMap((block) =>
			block.type === 'tool_use'
				? [
						{
							id: block.id,
							name: block.name,
							arguments: parseToolArguments('anthropic', block.input),
						},
					]
				: [],
		);
		const finish = finishOf(message.stop_reason);
		return {
			text,
			...(toolCalls.length > 0 ? { toolCalls } : {}),
			finish,
			refusalText: finish === 'refusal' ? text : undefined,
			usage: {
				inputTokens: message.usage.input_tokens,
				outputTokens: message.usage.output_tokens,
			},
			requestId: request_id ?? undefined,
			model: message.model,
			...(rateLimit ? { rateLimit } : {}),
		};
	}

	async *stream(request: CompletionRequest, options: CallOptions): AsyncGenerator<StreamEvent> {
		const { data, request_id, response } = await this.client.messages
			.create(
				{ ...this.params(request), stream: true },
				{ signal: options.signal, timeout: options.timeoutMs },
			)
			.withResponse();
		yield* readAnthropicStream(data, {
			requestId: request_id ?? undefined,
			rateLimit: readAnthropicLimits(response.headers),
			signal: options.signal,
			finishOf,
		});
	}
}
