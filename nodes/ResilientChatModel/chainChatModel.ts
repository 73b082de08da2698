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
import { TextQueue } from './textQueue';
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
	/** Runs one task through the failover chain; with `onText`, its text streams as it arrives. */
	run(
		task: Task,
		signal: AbortSignal | undefined,
		onText?: (delta: string) => void,
	): Promise<TaskResult>;
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
		const result = await this.dependencies.run(this.taskOf(messages), this.signalOf(config));
		return toGenerateResult(await this.answered(result), metadataOf(result));
	}

	/**
	 * The answer's text as the chain streams it: failures before the first text fail over
	 * unseen, and a stream that broke is continued by the next try. Tool calls follow once
	 * the answer is complete (never half), then the finish with the usage. A call no tier
	 * answered ends the stream with the chain's error.
	 */
	async *stream(messages: Message[], config?: ChatModelConfig): AsyncIterable<StreamChunk> {
		const task = this.taskOf(messages);
		const stop = new AbortController();
		const texts = new TextQueue();
		let settled = false;
		let streamed = false;
		const running = this.dependencies
			.run(task, this.signalOf(config, stop.signal), (delta) => texts.push(delta))
			.finally(() => {
				settled = true;
				texts.end();
			});
		// Awaited below; a reader that stops early never does.
		running.catch(() => undefined);
		try {
			for await (const delta of texts) {
				streamed = true;
				yield { type: 'text-delta', delta };
			}
			const result = await this.answered(await running);
			// A run that sent no text as it went (it could not stream) gives its answer whole.
			if (!streamed && result.text) yield { type: 'text-delta', delta: result.text };
			yield* finishChunks(toGenerateResult(result, metadataOf(result)));
		} finally {
			// The reader stopped early (the execution was cancelled, say): the calls stop too.
			if (!settled) stop.abort();
		}
	}

	/** The engine's task: the whole conversation, and the bound tools. */
	private taskOf(messages: Message[]): Task {
		const { invalid, toJsonSchema, zodToJsonSchema } = this.dependencies;
		return {
			messages: toChatMessages(messages, invalid),
			...(this.tools.length
				? { tools: toToolDefinitions(this.tools, toJsonSchema, invalid, zodToJsonSchema) }
				: {}),
		};
	}

	/** Every reason to cancel the call: the execution, the root node's config, the stream's reader. */
	private signalOf(config?: ChatModelConfig, reader?: AbortSignal): AbortSignal | undefined {
		// LangChain hands its call options over as the config: its cancel signal is `signal`.
		const callSignal = (config as { signal?: AbortSignal } | undefined)?.signal;
		const signals = [this.dependencies.signal, config?.abortSignal, callSignal, reader].filter(
			(s): s is AbortSignal => s !== undefined,
		);
		return signals.length > 1 ? AbortSignal.any(signals) : signals[0];
	}

	/** The call recorded; a call no tier answered is the root node's error. */
	private async answered(result: TaskResult): Promise<TaskResult> {
		await this.dependencies.onResult?.(result);
		if (result.outcome !== 'answered') throw this.dependencies.failure(result);
		return result;
	}
}

/** Which tier answered, as the SDK's provider metadata. */
function metadataOf(result: TaskResult): Record<string, unknown> {
	return { tier: result.tier, provider: result.provider, model: result.model };
}

/** A complete answer's tool calls, each whole with its id, then the finish. */
function* finishChunks(answer: GenerateResult): Iterable<StreamChunk> {
	for (const block of answer.message.content) {
		if (block.type !== 'tool-call') continue;
		yield {
			type: 'tool-call-delta',
			id: block.toolCallId,
			name: block.toolName,
			argumentsDelta: block.input,
		};
	}
	yield {
		type: 'finish',
		finishReason: answer.finishReason ?? 'stop',
		usage: answer.usage,
		...(answer.providerMetadata ? { providerMetadata: answer.providerMetadata } : {}),
	};
}
