/**
 * The messages a task sends, and their check: a single prompt becomes a system message and one
 * user message, a Resilient Chat Model's task arrives as messages with tools. Checked before any
 * call, so a malformed history fails with the field named instead of as a provider's 400 on
 * every tier.
 */
import { IMAGE_MEDIA_TYPES } from '../providers/types';
import { ConfigError } from './configError';
import type { ChatMessage, Task, ToolDefinition } from './types';

/** What Anthropic and OpenAI accept as a tool name; Gemini and Ollama accept at least these. */
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const ROLES = ['system', 'user', 'assistant', 'tool'];

/** The messages a task sends; the same for every tier, so a failover carries all of them. */
export function messagesOf(task: Task): ChatMessage[] {
	if (task.messages !== undefined) return task.messages;
	const messages: ChatMessage[] = [];
	if (task.systemPrompt) messages.push({ role: 'system', content: task.systemPrompt });
	messages.push({ role: 'user', content: task.prompt ?? '' });
	return messages;
}

function isObject(value: unknown): value is Record<string, unknown> {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown, field: string): void {
	if (typeof value !== 'string') throw new ConfigError(field, 'must be text');
}

function nonEmptyText(value: unknown, field: string): void {
	if (typeof value !== 'string' || value.trim() === '')
		throw new ConfigError(field, value === undefined ? 'is missing' : 'must be non-empty text');
}

export function validateTools(tools: unknown): void {
	if (tools === undefined) return;
	if (!Array.isArray(tools)) throw new ConfigError('tools', 'must be a list');
	const seen = new Set<string>();
	tools.forEach((tool: unknown, i) => {
		const at = `tools[${i}]`;
		if (!isObject(tool)) throw new ConfigError(at, 'must be an object with name and parameters');
		const { name, description, parameters } = tool as Partial<ToolDefinition>;
		if (typeof name !== 'string' || !TOOL_NAME.test(name))
			throw new ConfigError(
				`${at}.name`,
				`must be 1 to 64 letters, digits, _ or -, got ${JSON.stringify(name)}`,
			);
		if (seen.has(name)) throw new ConfigError(`${at}.name`, `"${name}" is named twice`);
		seen.add(name);
		if (description !== undefined) text(description, `${at}.description`);
		if (!isObject(parameters))
			throw new ConfigError(`${at}.parameters`, 'must be a JSON Schema object');
	});
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function validateImages(images: unknown, at: string): void {
	if (!Array.isArray(images)) throw new ConfigError(at, 'must be a list');
	images.forEach((image: unknown, i) => {
		const where = `${at}[${i}]`;
		if (!isObject(image)) throw new ConfigError(where, 'must be an object with mediaType and data');
		if (!(IMAGE_MEDIA_TYPES as readonly unknown[]).includes(image.mediaType))
			throw new ConfigError(
				`${where}.mediaType`,
				`must be one of ${IMAGE_MEDIA_TYPES.join(', ')}, got ${JSON.stringify(image.mediaType)}`,
			);
		if (typeof image.data !== 'string' || image.data === '' || !BASE64.test(image.data))
			throw new ConfigError(`${where}.data`, 'must be the image in base64');
	});
}

export function validateMessages(messages: unknown): void {
	if (!Array.isArray(messages) || messages.length === 0)
		throw new ConfigError('messages', 'must be a non-empty list');
	const callIds = new Set<string>();
	let spoken = false;
	messages.forEach((message: unknown, i) => {
		const at = `messages[${i}]`;
		if (!isObject(message) || !ROLES.includes(String(message.role)))
			throw new ConfigError(`${at}.role`, `must be one of ${ROLES.join(', ')}`);
		text(message.content, `${at}.content`);
		if (message.role !== 'system') spoken = true;
		if (message.images !== undefined) {
			if (message.role !== 'user')
				throw new ConfigError(`${at}.images`, 'only a user message can carry images');
			validateImages(message.images, `${at}.images`);
		}
		if (message.role === 'assistant' && message.toolCalls !== undefined) {
			if (!Array.isArray(message.toolCalls))
				throw new ConfigError(`${at}.toolCalls`, 'must be a list');
			message.toolCalls.forEach((call: unknown, j) => {
				const where = `${at}.toolCalls[${j}]`;
				if (!isObject(call)) throw new ConfigError(where, 'must be an object');
				nonEmptyText(call.id, `${where}.id`);
				nonEmptyText(call.name, `${where}.name`);
				if (!isObject(call.arguments))
					throw new ConfigError(`${where}.arguments`, 'must be an object');
				callIds.add(call.id as string);
			});
		}
		if (message.role === 'tool') {
			nonEmptyText(message.toolCallId, `${at}.toolCallId`);
			nonEmptyText(message.name, `${at}.name`);
			// Every provider rejects a result that answers no earlier call.
			if (!callIds.has(message.toolCallId as string))
				throw new ConfigError(
					`${at}.toolCallId`,
					`answers no tool call of an earlier assistant message (${JSON.stringify(message.toolCallId)})`,
				);
		}
	});
	if (!spoken) throw new ConfigError('messages', 'holds only system messages; add a user message');
}

/** Checks a task before any call is made; throws ConfigError naming the field. */
export function validateTask(task: Task): void {
	validateTools(task.tools);
	if (task.messages !== undefined) {
		validateMessages(task.messages);
		return;
	}
	if (typeof task.prompt !== 'string' || task.prompt.trim() === '') {
		throw new ConfigError(
			'prompt',
			task.prompt === undefined ? 'is missing' : 'must be non-empty text',
		);
	}
	if (task.systemPrompt !== undefined && typeof task.systemPrompt !== 'string') {
		throw new ConfigError('systemPrompt', 'must be text');
	}
}
