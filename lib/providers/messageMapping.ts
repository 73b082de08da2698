/**
 * Pieces of the conversation mapping that every adapter shares: system text, tool-call ids
 * for providers whose wire has none, and tool arguments that arrive as a JSON string.
 */
import { randomUUID } from 'node:crypto';

import { MalformedResponseError } from './httpError';
import type { ChatMessage } from './types';

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
