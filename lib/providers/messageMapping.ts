/**
 * Pieces of the conversation mapping that every adapter shares: system text, tool-call ids
 * for providers whose wire has none, tool arguments that arrive as a JSON string, and tools
 * in the function format OpenAI defined and others took up.
 */
import { randomUUID } from 'node:crypto';

import { MalformedResponseError } from './httpError';
import type { ChatMessage, ToolDefinition } from './types';

/** The system messages of a conversation as one text, for providers that take it apart from the turns. */
export function systemText(messages: ChatMessage[]): string {
	return messages
		.filter((m) => m.role === 'system')
		.map((m) => m.content)
		.filter((text) => text !== '')
		.join('\n\n');
}

/**
 * An id for a tool call whose provider sent none (Gemini, Ollama): the tool result must
 * name it, and another provider after a failover needs one to pair call and result.
 */
export function newToolCallId(): string {
	return `call_${randomUUID().replaceAll('-', '').slice(0, 24)}`;
}

/** Tool arguments sent as JSON text (OpenAI): an object, or a malformed answer worth a retry. */
export function parseToolArguments(provider: string, raw: unknown): Record<string, unknown> {
	if (raw && typeof raw === 'object' && !Array.isArray(raw)) return raw as Record<string, unknown>;
	if (typeof raw !== 'string' || raw.trim() === '') return {};
	try {
		const parsed: unknown = JSON.parse(raw);
		if (parsed && typeof parsed === 'object' && !Array.isArray(parsed))
			return parsed as Record<string, unknown>;
	} catch {
		// falls through to the error below
	}
	throw new MalformedResponseError(provider, 'tool call arguments that are not a JSON object');
}

/** What a provider without prefill is told after the partial answer of a broken stream. */
export const CONTINUE_INSTRUCTION =
	'Your previous answer was cut off. Continue it exactly where it stops, without repeating any of it.';

/**
 * The conversation for an attempt that continues a broken stream: the text already sent as
 * an assistant message at the end, then (for a provider without prefill) an instruction to
 * go on from there. With no text sent, the conversation as it was.
 */
export function continuationMessages(
	messages: ChatMessage[],
	sentText: string,
	prefill: boolean,
): ChatMessage[] {
	if (sentText.trim() === '') return messages;
	// A prefill may not end in whitespace (Anthropic answers 400): the model sends it again.
	if (prefill) return [...messages, { role: 'assistant', content: sentText.trimEnd() }];
	const partial: ChatMessage = { role: 'assistant', content: sentText };
	return [...messages, partial, { role: 'user', content: CONTINUE_INSTRUCTION }];
}

/** A tool in OpenAI's function format: OpenAI's wire, Ollama's, and LangChain's `bindTools`. */
export interface FunctionTool {
	type: 'function';
	function: { name: string; description?: string; parameters: Record<string, unknown> };
}

export function functionTools(tools: ToolDefinition[]): FunctionTool[] {
	return tools.map((tool) => ({
		type: 'function',
		function: {
			name: tool.name,
			...(tool.description ? { description: tool.description } : {}),
			parameters: tool.parameters,
		},
	}));
}
