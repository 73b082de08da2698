/**
 * The chat model n8n's AI root nodes call: each call is one engine task carrying the whole
 * conversation and the bound tools, so a failover mid-conversation hands everything to the
 * next tier. Conversions between the AI node SDK's messages and the engine's live here;
 * nothing in this file needs n8n or the SDK at run time.
 */
import type {
	ChatModel,
	ChatModelConfig,
	FunctionTool,
	GenerateResult,
	Message,
	MessageContent,
	StreamChunk,
	Tool,
} from '@n8n/ai-node-sdk';

import { IMAGE_MEDIA_TYPES } from '../../lib/providers/types';
import type { ImageInput } from '../../lib/providers/types';
import type {
	ChatMessage,
	Task,
	TaskResult,
	ToolCall,
	ToolDefinition,
} from '../../lib/engine/types';

/** Makes the error for a conversation or tool that cannot be sent, from what is wrong with it. */
export type InvalidInput = (message: string) => Error;

function textOf(content: MessageContent[]): string {
	return content
		.filter((block) => block.type === 'text')
		.map((block) => (block as { text: string }).text)
		.join('');
}

type FilePart = Extract<MessageContent, { type: 'file' }>;

/** `data:image/png;base64,…` as its media type and data; undefined for anything else. */
function fromDataUrl(url: string): { mediaType: string; data: string } | undefined {
	if (!url.startsWith('data:')) return undefined;
	const comma = url.indexOf(',');
	const header = comma < 0 ? '' : url.slice('data:'.length, comma);
	if (!header.endsWith(';base64')) return undefined;
	return { mediaType: header.split(';')[0], data: url.slice(comma + 1) };
}

/**
 * An image part as the engine's image. Anything the chain cannot send is refused by name:
 * dropping it would leave the model answering a question it was never shown.
 */
function imageOf(
	part: FilePart,
	where: string,
	role: Message['role'],
	invalid: InvalidInput,
): ImageInput {
	const url = part.providerMetadata?.url;
	const fromUrl = typeof url === 'string' ? fromDataUrl(url) : undefined;
	const inline = typeof part.data === 'string' ? fromDataUrl(part.data) : undefined;
	const mediaType = part.mediaType || inline?.mediaType || fromUrl?.mediaType;
	if (!mediaType?.startsWith('image/')) {
		throw invalid(
			`${where} has a file part${mediaType ? ` (${mediaType})` : ''}, which the chain cannot send: it sends text and images (${IMAGE_MEDIA_TYPES.join(', ')})`,
		);
	}
	const known = IMAGE_MEDIA_TYPES.find((type) => type === mediaType);
	if (!known) {
		throw invalid(
			`${where} has an image part of type ${mediaType}; the chain sends ${IMAGE_MEDIA_TYPES.join(', ')}`,
		);
	}
	if (role !== 'user') {
		throw invalid(
			`${where} has an image part (${mediaType}); only a user message can carry images`,
		);
	}
	let data: string;
	if (part.data instanceof Uint8Array) data = Buffer.from(part.data).toString('base64');
	else if (part.data) data = inline?.data ?? part.data;
	else if (fromUrl) data = fromUrl.data;
	else {
		throw invalid(
			`${where} has an image part (${mediaType}) given by its web address, which the chain cannot send: not every provider fetches images; pass the image as binary data`,
		);
	}
	return { mediaType: known, data };
}

/** A message's text and, on a user message, its images; other parts are refused by name. */
function readParts(
	message: Message,
	index: number,
	invalid: InvalidInput,
): { text: string; images: ImageInput[] } {
	const where = `message ${index} (${message.role})`;
	const images = message.content
		.filter((block): block is FilePart => block.type === 'file')
		.map((block) => imageOf(block, where, message.role, invalid));
	return { text: textOf(message.content), images };
}

function resultText(result: unknown): string {
	if (typeof result === 'string') return result;
	// LangChain hands multi-part tool output over as content blocks.
	if (Array.isArray(result) && result.every((b) => b && typeof b === 'object' && 'text' in b)) {
		return result.map((b) => String((b as { text: unknown }).text)).join('');
	}
	return JSON.stringify(result) ?? '';
}

function parseArguments(
	input: string,
	toolName: string,
	invalid: InvalidInput,
): Record<string, unknown> {
	if (input.trim() === '') return {};
	let parsed: unknown;
	try {
		parsed = JSON.parse(input);
	} catch {
		throw invalid(`the call to tool "${toolName}" has arguments that are not JSON`);
	}
	if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
		throw invalid(`the call to tool "${toolName}" has arguments that are not an object`);
	}
	return parsed as Record<string, unknown>;
}

/**
 * The SDK's messages as the engine's conversation. A tool result takes its tool's name from
 * the call it answers when the message does not carry it (Gemini needs the name). Images in
 * user messages go with them; a file, or an image elsewhere, is refused naming the message.
 */
export function toChatMessages(messages: Message[], invalid: InvalidInput): ChatMessage[] {
	const toolNames = new Map<string, string>();
	const out: ChatMessage[] = [];
	let generatedIds = 0;
	for (const [index, message] of messages.entries()) {
		const { text, images } = readParts(message, index, invalid);
		switch (message.role) {
			case 'system':
				out.push({ role: 'system', content: text });
				break;
			case 'user':
				out.push({ role: 'user', content: text, ...(images.length ? { images } : {}) });
				break;
			case 'assistant': {
				const toolCalls: ToolCall[] = [];
				for (const block of message.content) {
					if (block.type !== 'tool-call') continue;
					const id = block.toolCallId || `call_${++generatedIds}`;
					toolNames.set(id, block.toolName);
					toolCalls.push({
						id,
						name: block.toolName,
						arguments: parseArguments(block.input, block.toolName, invalid),
					});
				}
				out.push({
					role: 'assistant',
					content: text,
					...(toolCalls.length ? { toolCalls } : {}),
				});
				break;
			}
			case 'tool': {
				for (const block of message.content) {
					if (block.type !== 'tool-result') continue;
					const name = message.name || toolNames.get(block.toolCallId);
					if (!name) {
						throw invalid(
							`a tool result (call id "${block.toolCallId}") answers no tool call in the conversation`,
						);
					}
					out.push({
						role: 'tool',
						toolCallId: block.toolCallId,
						name,
						content: resultText(block.result),
					});
				}
				break;
			}
		}
	}
	return out;
}

/**
 * A Zod schema from any copy of zod (3 or 4). The SDK converts only schemas made with its own
 * zod (an `instanceof` check): a tool built with another copy comes back as the Zod object.
 */
export function isZodSchema(value: unknown): value is Record<string, unknown> {
	if (!value || typeof value !== 'object') return false;
	// Not `~standard`: Zod 4's own JSON Schema output carries one too.
	const def = (value as { _def?: unknown })._def;
	return '_zod' in value || (typeof def === 'object' && def !== null);
}

/** Converts a Zod 3 schema to JSON Schema (zod-to-json-schema, as n8n's SDK uses it). */
export type ZodConverter = (schema: unknown) => Record<string, unknown>;

function zodAsJsonSchema(schema: Record<string, unknown>, zodToJsonSchema?: ZodConverter): unknown {
	// Zod 4 schemas convert themselves; Zod 3 ones need zod-to-json-schema.
	if (typeof schema.toJSONSchema === 'function') {
		return (schema.toJSONSchema as () => unknown)();
	}
	if (zodToJsonSchema && '_def' in schema && !('_zod' in schema)) return zodToJsonSchema(schema);
	return undefined;
}

function isJsonSchemaObject(value: unknown): value is Record<string, unknown> {
	if (!value || typeof value !== 'object' || Array.isArray(value) || isZodSchema(value)) {
		return false;
	}
	const prototype = Object.getPrototypeOf(value) as unknown;
	if (prototype !== Object.prototype && prototype !== null) return false;
	const type = (value as { type?: unknown }).type;
	return type === undefined || type === 'object';
}

/**
 * The SDK's tools as the engine's definitions; `toJsonSchema` turns a tool's schema into JSON
 * Schema, `zodToJsonSchema` converts a Zod 3 schema `toJsonSchema` left as it was. A schema
 * that is still not a JSON Schema object is refused: a provider would reject it, or call the
 * tool with no arguments.
 */
export function toToolDefinitions(
	tools: Tool[],
	toJsonSchema: (tool: FunctionTool) => Record<string, unknown>,
	invalid: InvalidInput,
	zodToJsonSchema?: ZodConverter,
): ToolDefinition[] {
	return tools.map((tool) => {
		if (tool.type !== 'function') {
			throw invalid(
				`the tool "${tool.name}" is a provider's built-in tool, which a chain across providers cannot pass on`,
			);
		}
		let schema: unknown;
		let problem = '';
		try {
			schema = toJsonSchema(tool);
			if (isZodSchema(schema)) schema = zodAsJsonSchema(schema, zodToJsonSchema);
		} catch (error) {
			problem = `: ${(error as Error).message}`;
		}
		if (!isJsonSchemaObject(schema)) {
			const what = isZodSchema(tool.inputSchema)
				? 'a Zod schema that could not be converted to JSON Schema'
				: 'not a JSON Schema object';
			throw invalid(`the input schema of tool "${tool.name}" is ${what}${problem}`);
		}
		const { $schema, ...parameters } = schema;
		void $schema;
		return {
			name: tool.name,
			...(tool.description ? { description: tool.description } : {}),
			parameters: Object.keys(parameters).length ? parameters : { type: 'object', properties: {} },
		};
	});
}

/** The engine's answer as the SDK's: text and tool calls in one assistant message. */
export function toGenerateResult(
	result: TaskResult,
	metadata?: Record<string, unknown>,
): GenerateResult {
	const content: MessageContent[] = [];
	if (result.text) content.push({ type: 'text', text: result.text });
	for (const call of result.toolCalls ?? []) {
		content.push({
			type: 'tool-call',
			toolCallId: call.id,
			toolName: call.name,
			input: JSON.stringify(call.arguments),
		});
	}
	return {
		message: { role: 'assistant', content },
		finishReason: result.toolCalls?.length ? 'tool-calls' : 'stop',
		usage: {
			promptTokens: result.usage.inputTokens,
			completionTokens: result.usage.outputTokens,
			totalTokens: result.usage.inputTokens + result.usage.outputTokens,
		},
		...(metadata ? { providerMetadata: metadata } : {}),
	};
}

/** What the model needs from its surroundings: the engine, and what happens around each call. */
export interface ChatModelDependencies {
	/** Runs one task through the failover chain. */
	run(task: Task, signal: AbortSignal | undefined): Promise<TaskResult>;
	toJsonSchema(tool: FunctionTool): Record<string, unknown>;
	/** Converts a Zod 3 schema that `toJsonSchema` left as it was (one from another zod copy). */
	zodToJsonSchema?: ZodConverter;
	/** Told of every finished call (logs, counters, the editor's panel). */
	onResult?(result: TaskResult): Promise<void> | void;
	/** The error for a conversation or tool the chain cannot send. */
	invalid: InvalidInput;
	/** The error the root node gets when no tier answered. */
	failure(result: TaskResult): Error;
	/** The model id shown for the chain, e.g. "claude-haiku-4-5 → gpt-4o-mini". */
	modelId: string;
	/** Cancels calls when the execution is cancelled. */
	signal?: AbortSignal;
}

export class ChainChatModel implements ChatModel {
	readonly provider = 'resilient-llm';
	readonly modelId: string;

	constructor(
		private readonly dependencies: ChatModelDependencies,
		private readonly tools: Tool[] = [],
	) {
		this.modelId = dependencies.modelId;
	}

	withTools(tools: Tool[]): ChainChatModel {
		return new ChainChatModel(this.dependencies, [...this.tools, ...tools]);
	}

	async generate(messages: Message[], config?: ChatModelConfig): Promise<GenerateResult> {
		const task: Task = {
			messages: toChatMessages(messages, this.dependencies.invalid),
			...(this.tools.length
				? {
						tools: toToolDefinitions(
							this.tools,
							this.dependencies.toJsonSchema,
							this.dependencies.invalid,
							this.dependencies.zodToJsonSchema,
						),
					}
				: {}),
		};
		// LangChain hands its call options over as the config: its cancel signal is `signal`.
		const callSignal = (config as { signal?: AbortSignal } | undefined)?.signal;
		const signals = [this.dependencies.signal, config?.abortSignal, callSignal].filter(
			(s): s is AbortSignal => s !== undefined,
		);
		const signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
		const result = await this.dependencies.run(task, signal);
		await this.dependencies.onResult?.(result);
		if (result.outcome !== 'answered') throw this.dependencies.failure(result);
		return toGenerateResult(result, {
			tier: result.tier,
			provider: result.provider,
			model: result.model,
		});
	}

	/** The answer arrives whole (the chain must see it complete to judge it), then streams out. */
	async *stream(messages: Message[], config?: ChatModelConfig): AsyncIterable<StreamChunk> {
		const result = await this.generate(messages, config);
		for (const block of result.message.content) {
			if (block.type === 'text') yield { type: 'text-delta', delta: block.text };
			if (block.type === 'tool-call') {
				yield {
					type: 'tool-call-delta',
					id: block.toolCallId,
					name: block.toolName,
					argumentsDelta: block.input,
				};
			}
		}
		yield { type: 'finish', finishReason: result.finishReason ?? 'stop', usage: result.usage };
	}
}
