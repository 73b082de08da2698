/**
 * The chat model n8n's AI root nodes call: each call is one engine task carrying the whole
 * conversation and the bound tools, so a failover mid-conversation hands everything to the
 * next tier. The conversions between the AI node SDK's messages and tools and the engine's
 * are in chatMessages.ts and toolDefinitions.ts; none of these files needs n8n or the SDK at
 * run time.
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

import type { Task, TaskResult } from '../../lib/engine/types';
import { toChatMessages } from './chatMessages';
import type { InvalidInput } from './chatMessages';
import { toToolDefinitions } from './toolDefinitions';
import type { ZodConverter } from './toolDefinitions';

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
