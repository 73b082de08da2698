/**
 * LangChain message parts that n8n's AI node SDK (0.31) drops on its way to a chat model:
 * OpenAI-style `image_url` parts, which n8n's AI Agent sends for images it passes through,
 * and the older data parts keyed by `mime_type`/`source_type`. They are rewritten as
 * LangChain's standard `image`/`file` parts, which the SDK hands over as file parts, before
 * the SDK's adapter reads the messages. Works on the adapter's LangChain methods only, so
 * nothing here needs n8n or LangChain at run time.
 */

type Part = Record<string, unknown>;

interface LangChainMessage {
	content: unknown;
}

/** The parts of n8n's LangChain adapter this touches: LangChain's BaseChatModel methods. */
interface LangChainChatModel {
	_generate(messages: LangChainMessage[], ...rest: unknown[]): unknown;
	_streamResponseChunks(messages: LangChainMessage[], ...rest: unknown[]): unknown;
	bindTools?(...args: unknown[]): unknown;
}

function isPart(value: unknown): value is Part {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One part in LangChain's standard form; any other part is returned as it is. */
function standardPart(part: unknown): unknown {
	if (!isPart(part)) return part;
	if (part.type === 'image_url') {
		const image = part.image_url;
		const url = typeof image === 'string' ? image : isPart(image) ? image.url : undefined;
		if (typeof url !== 'string') return part;
		const comma = url.indexOf(',');
		const header = url.startsWith('data:') && comma > 0 ? url.slice('data:'.length, comma) : '';
		if (header.endsWith(';base64')) {
			return { type: 'image', mimeType: header.split(';')[0], data: url.slice(comma + 1) };
		}
		return { type: 'image', url };
	}
	if (typeof part.source_type === 'string' && (part.type === 'image' || part.type === 'file')) {
		const { source_type: source, mime_type: mimeType, ...rest } = part;
		return {
			...rest,
			...(typeof mimeType === 'string' ? { mimeType } : {}),
			...(source === 'url' && typeof part.url === 'string' ? { url: part.url } : {}),
		};
	}
	return part;
}

/** The message with its parts in standard form: a copy when any changed, else the message. */
export function withStandardParts<M extends LangChainMessage>(message: M): M {
	if (!Array.isArray(message.content)) return message;
	const content = message.content.map(standardPart);
	if (content.every((part, i) => part === (message.content as unknown[])[i])) return message;
	// A copy of the same class: LangChain tells message kinds apart by their prototype.
	return Object.assign(Object.create(Object.getPrototypeOf(message) as object) as M, message, {
		content,
	});
}

/**
 * Makes the SDK's LangChain adapter see every image part: its two entry points get the
 * messages in standard form, and so does each adapter `bindTools` makes.
 */
export function keepImageParts<T>(model: T): T {
	const chat = model as unknown as LangChainChatModel;
	if (typeof chat._generate !== 'function' || typeof chat._streamResponseChunks !== 'function')
		return model;
	const generate = chat._generate;
	const stream = chat._streamResponseChunks;
	const bindTools = chat.bindTools;
	chat._generate = function (messages, ...rest) {
		return generate.call(this, messages.map(withStandardParts), ...rest);
	};
	chat._streamResponseChunks = function (messages, ...rest) {
		return stream.call(this, messages.map(withStandardParts), ...rest);
	};
	if (typeof bindTools === 'function') {
		chat.bindTools = function (...args) {
			return keepImageParts(bindTools.apply(this, args));
		};
	}
	return model;
}
