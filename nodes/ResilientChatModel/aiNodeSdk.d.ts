/**
 * The part of `@n8n/ai-node-sdk` (0.31.1, shipped with n8n 2.41.1) this node uses. n8n
 * provides the SDK at run time (a peer dependency, resolved from n8n's own modules); its
 * published package pulls in LangChain and much of n8n, so the build checks against these
 * declarations, copied from the SDK's own, instead of installing it.
 */
declare module '@n8n/ai-node-sdk' {
	import type { ISupplyDataFunctions, SupplyData } from 'n8n-workflow';

	export type MessageRole = 'system' | 'user' | 'assistant' | 'tool';

	export interface ContentMetadata {
		providerMetadata?: Record<string, unknown>;
	}
	export type ContentText = ContentMetadata & { type: 'text'; text: string };
	export type ContentReasoning = ContentMetadata & { type: 'reasoning'; text: string };
	export type ContentFile = ContentMetadata & {
		type: 'file';
		mediaType?: string;
		data: string | Uint8Array;
	};
	export type ContentToolCall = ContentMetadata & {
		type: 'tool-call';
		toolCallId?: string;
		toolName: string;
		input: string;
	};
	export type ContentToolResult = ContentMetadata & {
		type: 'tool-result';
		toolCallId: string;
		result: unknown;
		isError?: boolean;
	};
	export type ContentInvalidToolCall = ContentMetadata & {
		type: 'invalid-tool-call';
		toolCallId?: string;
		error?: string;
		args?: string;
		name?: string;
	};
	export type ContentCitation = ContentMetadata & { type: 'citation'; text?: string };
	export type ContentProvider = ContentMetadata & {
		type: 'provider';
		value: Record<string, unknown>;
	};
	export type MessageContent =
		| ContentText
		| ContentToolCall
		| ContentInvalidToolCall
		| ContentToolResult
		| ContentReasoning
		| ContentFile
		| ContentCitation
		| ContentProvider;

	export interface Message {
		role: MessageRole;
		content: MessageContent[];
		name?: string;
		id?: string;
	}

	export interface FunctionTool {
		type: 'function';
		name: string;
		description?: string;
		/** A JSON Schema, or a Zod schema (which getParametersJsonSchema converts). */
		inputSchema: unknown;
		strict?: boolean;
		providerOptions?: Record<string, unknown>;
	}
	export interface ProviderTool {
		type: 'provider';
		name: string;
		args?: Record<string, unknown>;
	}
	export type Tool = FunctionTool | ProviderTool;

	export type FinishReason =
		| 'stop'
		| 'length'
		| 'content-filter'
		| 'tool-calls'
		| 'error'
		| 'other';

	export interface TokenUsage {
		promptTokens: number;
		completionTokens: number;
		totalTokens: number;
	}

	export interface GenerateResult {
		id?: string;
		finishReason?: FinishReason;
		usage?: TokenUsage;
		message: Message;
		providerMetadata?: Record<string, unknown>;
	}

	export type StreamChunk = ContentMetadata &
		(
			| { type: 'text-delta'; id?: string; delta: string }
			| { type: 'tool-call-delta'; id?: string; name?: string; argumentsDelta?: string }
			| { type: 'finish'; finishReason: FinishReason; usage?: TokenUsage }
			| { type: 'error'; error: unknown }
			| { type: 'content'; content: MessageContent; id?: string }
		);

	export interface ChatModelConfig {
		maxTokens?: number;
		temperature?: number;
		abortSignal?: AbortSignal;
		timeout?: number;
	}

	export interface ChatModel<TConfig extends ChatModelConfig = ChatModelConfig> {
		provider: string;
		modelId: string;
		defaultConfig?: TConfig;
		generate(messages: Message[], config?: TConfig): Promise<GenerateResult>;
		stream(messages: Message[], config?: TConfig): AsyncIterable<StreamChunk>;
		withTools(tools: Tool[]): ChatModel<TConfig>;
	}

	/** Wraps the model for n8n's AI root nodes (LangChain inside), with n8n's call tracing. */
	export function supplyModel(ctx: ISupplyDataFunctions, model: ChatModel): SupplyData;

	/** A function tool's parameters as JSON Schema, whatever form the tool gave them in. */
	export function getParametersJsonSchema(tool: FunctionTool): Record<string, unknown>;
}
