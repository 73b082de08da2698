/**
 * Ollama's native `/api/chat` on the wire, for the provider emulator: its answers and its
 * errors (`{"error": "text"}`). Not imported by the adapter or the registry.
 */
import { CHAT_TURNS, readChatConversation } from '../openai/wireConversation';
import { splitContinuation } from '../wireContinuation';
import { JSON_HEADERS, bearer, messageOf, messagesText, retryHeaders } from '../wireFormat';
import type { ErrorOptions, HttpFault, MessageOf, ProviderWire, WireAnswer } from '../wireFormat';
import { doneFields, ollamaStream, ollamaToolCalls } from './wireStream';

/** Each class's status and message; `hint`: a scripted retry hint goes in `retry-after`. */
const ERRORS: Record<HttpFault, { status: number; message: MessageOf; hint?: boolean }> = {
	rate_limited: { status: 429, message: 'too many requests, please try again later', hint: true },
	quota_exhausted: {
		status: 429,
		message: 'you have reached your weekly usage limit, upgrade for higher limits',
	},
	overloaded: {
		status: 503,
		message: 'server busy, please try again.  maximum pending requests exceeded',
	},
	server_error: { status: 500, message: 'llama runner process has terminated: exit status 2' },
	context_too_long: { status: 400, message: 'the input length exceeds the context length' },
	auth: { status: 401, message: 'unauthorized' },
	bad_request: { status: 400, message: (o) => o.message ?? 'invalid message format' },
	model_not_found: { status: 404, message: (o) => `model '${o.model}' not found` },
};

function error(fault: HttpFault, o: ErrorOptions) {
	const e = ERRORS[fault];
	return {
		status: e.status,
		headers: { ...JSON_HEADERS, ...(e.hint ? retryHeaders(o) : {}) },
		body: { error: messageOf(e.message, o) },
	};
}

function success(a: WireAnswer) {
	return {
		status: 200,
		headers: { ...JSON_HEADERS },
		body: {
			model: a.model,
			created_at: new Date().toISOString(),
			message: {
				role: 'assistant',
				content: a.finish === 'empty_output' ? '' : a.text,
				...(a.toolCalls.length > 0 ? { tool_calls: ollamaToolCalls(a) } : {}),
			},
			...doneFields(a),
		},
	};
}

export const ollamaWire: ProviderWire = {
	name: 'ollama',
	basePath: '',
	toolCallIdPrefix: 'call',
	readCall(request, body) {
		if (request.url.pathname !== '/api/chat') return undefined;
		const continuation = splitContinuation(body.messages, CHAT_TURNS);
		const messages = continuation?.messages ?? body.messages;
		return {
			model: String(body.model ?? ''),
			promptText: messagesText(messages),
			wantsJson: body.format === 'json' || typeof body.format === 'object',
			apiKey: bearer(request),
			stream: body.stream !== false,
			streamUsage: true,
			continued: continuation?.sent,
			conversation: readChatConversation({ ...body, messages }, false),
		};
	},
	readListRequest: (request) =>
		request.url.pathname === '/api/tags' ? { key: bearer(request) } : undefined,
	modelList: (models) => ({ models: models.map((name) => ({ name, model: name })) }),
	error,
	success,
	stream: ollamaStream,
	streamError: (fault, o) => `${JSON.stringify(error(fault, o).body)}\n`,
};
