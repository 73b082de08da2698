/**
 * Streaming clients for the emulator: each provider's official SDK streaming API (Ollama: its
 * NDJSON read with fetch), read into one record of what arrived, in order. A stream that
 * fails throws, and the record keeps what arrived before.
 */
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';

import type { ProviderEmulator } from '../../lib/emulator/server';
import type { WireProvider } from '../../lib/emulator/wire';
import { KEYS, MODELS } from './emulator';

/** A conversation's text turns, in one shape for every wire. */
export type Turn = { role: 'user' | 'assistant'; content: string };

export interface StreamRequest {
	messages: Turn[];
	/** Offer the lookup_order tool. */
	tools?: boolean;
	model?: string;
	signal?: AbortSignal;
}

export interface Streamed {
	/** Text deltas, in the order they arrived. */
	texts: string[];
	/** When each text delta arrived (performance.now()). */
	textAt: number[];
	/** Tool calls, their arguments assembled from the pieces they came in. */
	toolCalls: { name: string; arguments: unknown }[];
	/** Argument pieces received, all tool calls together. */
	toolPieces: number;
	usage?: { input: number; output: number };
	finish?: string;
	/** What arrived, in order: 'text', 'tool', 'usage', 'finish'. */
	order: string[];
}

export const newStreamed = (): Streamed => ({
	texts: [],
	textAt: [],
	toolCalls: [],
	toolPieces: 0,
	order: [],
});

const LOOKUP_SCHEMA = {
	type: 'object' as const,
	properties: { orderId: { type: 'string' }, reason: { type: 'string' } },
	required: ['orderId'],
};

function text(into: Streamed, piece: string | null | undefined): void {
	if (!piece) return;
	into.texts.push(piece);
	into.textAt.push(performance.now());
	into.order.push('text');
}

function toolCall(into: Streamed, name: string, args: string | object): void {
	into.toolCalls.push({ name, arguments: typeof args === 'string' ? JSON.parse(args) : args });
	into.order.push('tool');
}

async function anthropic(e: ProviderEmulator, r: StreamRequest, into: Streamed): Promise<void> {
	const client = new Anthropic({
		apiKey: KEYS.anthropic,
		baseURL: e.urls.anthropic,
		maxRetries: 0,
	});
	const tools = r.tools ? [{ name: 'lookup_order', input_schema: LOOKUP_SCHEMA }] : undefined;
	const stream = await client.messages.create(
		{
			model: r.model ?? MODELS.anthropic,
			max_tokens: 4000,
			messages: r.messages,
			tools,
			stream: true,
		},
		{ signal: r.signal },
	);
	let tool: { name: string; json: string } | undefined;
	for await (const event of stream) {
		if (event.type === 'message_start')
			into.usage = { input: event.message.usage.input_tokens, output: 0 };
		if (event.type === 'content_block_start' && event.content_block.type === 'tool_use')
			tool = { name: event.content_block.name, json: '' };
		if (event.type === 'content_block_delta' && event.delta.type === 'text_delta')
			text(into, event.delta.text);
		if (event.type === 'content_block_delta' && event.delta.type === 'input_json_delta' && tool) {
			tool.json += event.delta.partial_json;
			into.toolPieces++;
		}
		if (event.type === 'content_block_stop' && tool) {
			toolCall(into, tool.name, tool.json);
			tool = undefined;
		}
		if (event.type === 'message_delta') {
			into.usage = { input: into.usage?.input ?? 0, output: event.usage.output_tokens };
			into.finish = event.delta.stop_reason ?? undefined;
			into.order.push('usage', 'finish');
		}
	}
}

async function openai(e: ProviderEmulator, r: StreamRequest, into: Streamed): Promise<void> {
	const client = new OpenAI({ apiKey: KEYS.openai, baseURL: e.urls.openai, maxRetries: 0 });
	const tools = r.tools
		? [{ type: 'function' as const, function: { name: 'lookup_order', parameters: LOOKUP_SCHEMA } }]
		: undefined;
	const stream = await client.chat.completions.create(
		{
			model: r.model ?? MODELS.openai,
			messages: r.messages,
			tools,
			stream: true,
			stream_options: { include_usage: true },
		},
		{ signal: r.signal },
	);
	const calls: { name: string; args: string }[] = [];
	for await (const chunk of stream) {
		const choice = chunk.choices[0];
		text(into, choice?.delta.content);
		for (const piece of choice?.delta.tool_calls ?? []) {
			calls[piece.index] ??= { name: piece.function?.name ?? '', args: '' };
			calls[piece.index].args += piece.function?.arguments ?? '';
			if (piece.function?.arguments) into.toolPieces++;
		}
		if (choice?.finish_reason) {
			for (const call of calls) toolCall(into, call.name, call.args);
			into.finish = choice.finish_reason;
			into.order.push('finish');
		}
		if (chunk.usage) {
			into.usage = { input: chunk.usage.prompt_tokens, output: chunk.usage.completion_tokens };
			into.order.push('usage');
		}
	}
}

async function gemini(e: ProviderEmulator, r: StreamRequest, into: Streamed): Promise<void> {
	const client = new GoogleGenAI({ apiKey: KEYS.gemini, httpOptions: { baseUrl: e.urls.gemini } });
	const tools = r.tools
		? [{ functionDeclarations: [{ name: 'lookup_order', parametersJsonSchema: LOOKUP_SCHEMA }] }]
		: undefined;
	const stream = await client.models.generateContentStream({
		model: r.model ?? MODELS.gemini,
		contents: r.messages.map((m) => ({
			role: m.role === 'assistant' ? 'model' : 'user',
			parts: [{ text: m.content }],
		})),
		config: { tools, abortSignal: r.signal },
	});
	for await (const chunk of stream) {
		const candidate = chunk.candidates?.[0];
		for (const part of candidate?.content?.parts ?? []) {
			text(into, part.text);
			if (part.functionCall)
				toolCall(into, part.functionCall.name ?? '', part.functionCall.args ?? {});
		}
		if (chunk.usageMetadata?.candidatesTokenCount !== undefined) {
			const usage = chunk.usageMetadata;
			into.usage = { input: usage.promptTokenCount ?? 0, output: usage.candidatesTokenCount ?? 0 };
			into.order.push('usage');
		}
		if (candidate?.finishReason) {
			into.finish = candidate.finishReason;
			into.order.push('finish');
		}
	}
}

interface OllamaLine {
	error?: string;
	done?: boolean;
	done_reason?: string;
	message?: { content?: string; tool_calls?: { function: { name: string; arguments: object } }[] };
	prompt_eval_count?: number;
	eval_count?: number;
}

function ollamaLine(into: Streamed, line: OllamaLine): void {
	if (line.error !== undefined) throw new Error(`ollama: ${line.error}`);
	text(into, line.message?.content);
	for (const call of line.message?.tool_calls ?? [])
		toolCall(into, call.function.name, call.function.arguments);
	if (line.done) {
		into.usage = { input: line.prompt_eval_count ?? 0, output: line.eval_count ?? 0 };
		into.finish = line.done_reason;
		into.order.push('usage', 'finish');
	}
}

async function ollama(e: ProviderEmulator, r: StreamRequest, into: Streamed): Promise<void> {
	const tools = r.tools
		? [{ type: 'function', function: { name: 'lookup_order', parameters: LOOKUP_SCHEMA } }]
		: undefined;
	const response = await fetch(`${e.urls.ollama}/api/chat`, {
		method: 'POST',
		body: JSON.stringify({ model: r.model ?? MODELS.ollama, messages: r.messages, tools }),
		signal: r.signal ?? AbortSignal.timeout(10_000),
	});
	if (!response.ok) throw new Error(`ollama: status ${response.status}: ${await response.text()}`);
	const decoder = new TextDecoder();
	let pending = '';
	for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
		pending += decoder.decode(bytes, { stream: true });
		const lines = pending.split('\n');
		pending = lines.pop() ?? '';
		for (const line of lines) if (line.trim()) ollamaLine(into, JSON.parse(line) as OllamaLine);
	}
}

const CLIENTS = { anthropic, openai, gemini, ollama };

/** Streams one request through the wire's own client into `into`; throws what the client throws. */
export function streamFrom(
	emulator: ProviderEmulator,
	wire: WireProvider,
	request: StreamRequest,
	into: Streamed = newStreamed(),
): Promise<Streamed> {
	return CLIENTS[wire](emulator, request, into).then(() => into);
}
