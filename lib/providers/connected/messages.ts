/**
 * A conversation as LangChain takes it: plain message objects with a role, which every
 * LangChain chat model turns into its own message classes (no LangChain import needed here).
 */
import type { ChatMessage } from '../types';

/** A message object LangChain's `coerceMessageLikeToMessage` reads. */
export type LangChainMessageLike = Record<string, unknown>;

function userContent(message: Extract<ChatMessage, { role: 'user' }>): unknown {
	if (!message.images?.length) return message.content;
	return [
		{ type: 'text', text: message.content },
		...message.images.map((image) => ({
			type: 'image_url',
			image_url: { url: `data:${image.mediaType};base64,${image.data}` },
		})),
	];
}

export function langChainMessages(messages: ChatMessage[]): LangChainMessageLike[] {
	return messages.map((message) => {
		switch (message.role) {
			case 'system':
				return { role: 'system', content: message.content };
			case 'user':
				return { role: 'user', content: userContent(message) };
			case 'assistant':
				return message.toolCalls?.length
					? {
							role: 'assistant',
							content: message.content,
							tool_calls: message.toolCalls.map((call) => ({
								id: call.id,
								name: call.name,
								args: call.arguments,
								type: 'tool_call',
							})),
						}
					: { role: 'assistant', content: message.content };
			case 'tool':
				return {
					role: 'tool',
					content: message.content,
					tool_call_id: message.toolCallId,
					name: message.name,
				};
		}
	});
}
