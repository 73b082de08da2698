/**
 * The AI node SDK's conversation as the engine's messages: text, images of user messages,
 * tool calls and their results. Parts the engine cannot send are refused by name.
 */
import type { Message, MessageContent } from '@n8n/ai-node-sdk';

import { IMAGE_MEDIA_TYPES } from '../../lib/providers/types';
import type { ImageInput } from '../../lib/providers/types';
import type { ChatMessage, ToolCall } from '../../lib/engine/types';

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
