/**
 * Ollama's native `/api/chat` on the wire, for the provider emulator: its answers and its
 * errors (`{"error": "text"}`). Not imported by the adapter or the registry.
 */
import { readChatConversation } from '../openai/wireConversation';
import { JSON_HEADERS, bearer, messageOf, messagesText, retryHeaders } from '../wireFormat';
import type { ErrorOptions, HttpFault, MessageOf, ProviderWire, WireAnswer } from '../wireFormat';

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
				// Ollama's tool calls carry no id; arguments are an object, not a string.
				...(a.toolCalls.length > 0
					? {
							tool_calls: a.toolCalls.map((call, index) => ({
								function: { index, name: call.name, arguments: call.arguments },
							})),
						}
					: {}),
			},
			done: true,
			done_reason: a.finish === 'truncated' ? 'length' : 'stop',
			total_duration: 1,
			prompt_eval_count: a.usage.input,
			eval_count: a.usage.output,
		},
	};
}

export const ollamaWire: ProviderWire = {
	name: 'ollama',
	basePath: '',
	toolCallIdPrefix: 'call',
	readCall(request, body) {
		if (request.url.pathname !== '/api/chat') return undefined;
		return {
			model: String(body.model ?? ''),
			promptText: messagesText(body.messages),
			wantsJson: body.format === 'json' || typeof body.format === 'object',
			apiKey: bearer(request),
			ndjson: body.stream !== false,
			conversation: readChatConversation(body, false),
		};
	},
	readListRequest: (request) =>
		request.url.pathname === '/api/tags' ? { key: bearer(request) } : undefined,
	modelList: (models) => ({ models: models.map((name) => ({ name, model: name })) }),
	error,
	success,
};
