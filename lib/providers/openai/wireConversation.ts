/**
 * Reading a chat-completions conversation, for the provider emulator: tool_calls on assistant
 * messages, answered by messages with role "tool". OpenAI checks that every call is answered
 * by id; Ollama's /api/chat has the same shape with no ids.
 */
import type { TurnReader } from '../wireContinuation';
import { asText, emptyConversation, isObject, list, textOf } from '../wireFormat';
import type { ConversationRead, Json } from '../wireFormat';

/** A message's text, when it has the role and no tool calls. */
function textFrom(message: unknown, role: string): string | undefined {
	if (!isObject(message) || message.role !== role) return undefined;
	if (list(message.tool_calls).length > 0) return undefined;
	return textOf(message.content);
}

/** The end of a chat conversation (OpenAI's and Ollama's shape), for a continued answer. */
export const CHAT_TURNS: TurnReader = {
	userText: (message) => textFrom(message, 'user'),
	answerText: (message) => textFrom(message, 'assistant'),
};

function readTools(body: Json, read: ConversationRead, checkIds: boolean): void {
	list(body.tools).forEach((tool, i) => {
		const fn = isObject(tool) ? tool.function : undefined;
		if (
			!isObject(tool) ||
			tool.type !== 'function' ||
			!isObject(fn) ||
			typeof fn.name !== 'string'
		) {
			read.problem ??= checkIds
				? `Missing required parameter: 'tools[${i}].function'.`
				: 'invalid tool definition';
			return;
		}
		read.tools.push(fn.name);
		read.toolText += JSON.stringify(tool);
	});
	read.shape.hasTools = read.tools.length > 0;
}

/** The tool calls of an assistant message: their ids (when checked) go on `pending`. */
function readToolCalls(
	message: Json,
	i: number,
	read: ConversationRead,
	pending: string[] | undefined,
): boolean {
	let called = false;
	for (const call of list(message.tool_calls)) {
		if (!isObject(call) || !isObject(call.function)) continue;
		if (pending) {
			if (typeof call.id !== 'string') {
				read.problem ??= `Missing required parameter: 'messages[${i}].tool_calls[0].id'.`;
				continue;
			}
			pending.push(call.id);
		}
		read.toolText += asText(call.function.arguments);
		called = true;
	}
	return called;
}

export function readChatConversation(body: Json, checkIds: boolean): ConversationRead {
	const read = emptyConversation();
	readTools(body, read, checkIds);
	let pending: string[] = [];
	const unanswered = () => {
		if (checkIds && pending.length > 0)
			read.problem ??= `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${pending.join(', ')}`;
		pending = [];
	};
	let afterCalls = false;
	list(body.messages).forEach((message, i) => {
		if (!isObject(message)) return;
		if (message.role === 'tool') {
			read.shape.toolResults++;
			read.toolText += asText(message.content);
			const id = String(message.tool_call_id ?? '');
			if (checkIds && (!afterCalls || !pending.includes(id)))
				read.problem ??= `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.`;
			pending = pending.filter((p) => p !== id);
			return;
		}
		unanswered();
		afterCalls = false;
		if (message.role === 'assistant') {
			read.shape.turn++;
			afterCalls = readToolCalls(message, i, read, checkIds ? pending : undefined);
		} else if (message.role === 'user') read.shape.turn = 0;
	});
	unanswered();
	return read;
}
