/**
 * OpenAI's chat completions API on the wire, for the provider emulator:
 * `POST /v1/chat/completions`, its answers and its errors. OpenAI-compatible servers speak
 * it too. Not imported by the adapter or the registry.
 */
import { splitContinuation } from '../wireContinuation';
import {
	JSON_HEADERS,
	bearer,
	messageOf,
	messagesText,
	stainlessErrorHeaders,
	sseEvent,
} from '../wireFormat';
import type {
	ErrorOptions,
	HttpFault,
	LimitExceeded,
	MessageOf,
	ProviderWire,
	WireAnswer,
} from '../wireFormat';
import { durationText, openAiLimitHeaders } from './rateLimits';
import { CHAT_TURNS, readChatConversation } from './wireConversation';
import { finishReason, openaiStream } from './wireStream';

interface OpenAiError {
	status: number;
	type: MessageOf;
	code: string | null;
	message: MessageOf;
	/** The `x-should-retry` header, where the API sends one. */
	shouldRetry?: boolean;
	/** Whether a scripted retry hint goes in `retry-after` and `retry-after-ms`. */
	hint?: boolean;
}

/** The 429 message naming the limit a call ran into, as OpenAI words it. */
function limitMessage(model: string, l: LimitExceeded): string {
	const per = l.kind === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
	return `Rate limit reached for ${model} in organization org-emulator on ${per}: Limit ${l.limit}, Used ${l.used ?? l.limit}, Requested ${l.requested ?? 1}. Please try again in ${durationText(l.retryAfterMs)}. Visit https://platform.openai.com/account/rate-limits to learn more.`;
}

const ERRORS: Record<HttpFault, OpenAiError> = {
	rate_limited: {
		status: 429,
		type: (o) => o.limit?.kind ?? 'tokens',
		code: 'rate_limit_exceeded',
		message: (o) =>
			o.limit
				? limitMessage(o.model, o.limit)
				: `Rate limit reached for ${o.model} in organization org-emulator on tokens per min (TPM): Limit 200000, Used 199100, Requested 1600. Please try again in ${o.retryAfterS ?? 1.574}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
		shouldRetry: true,
		hint: true,
	},
	quota_exhausted: {
		status: 429,
		type: 'insufficient_quota',
		code: 'insufficient_quota',
		message: 'You exceeded your current quota, please check your plan and billing details.',
		shouldRetry: false,
	},
	overloaded: {
		status: 503,
		type: 'server_error',
		code: null,
		message: 'The engine is currently overloaded, please try again later.',
		hint: true,
	},
	server_error: {
		status: 500,
		type: 'server_error',
		code: null,
		message: 'The server had an error while processing your request. Sorry about that!',
	},
	context_too_long: {
		status: 400,
		type: 'invalid_request_error',
		code: 'context_length_exceeded',
		message:
			"This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
	},
	// The real API echoes a masked key; the emulator echoes none.
	auth: {
		status: 401,
		type: 'invalid_request_error',
		code: 'invalid_api_key',
		message:
			'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
	},
	bad_request: {
		status: 400,
		type: 'invalid_request_error',
		code: null,
		message: (o) => o.message ?? "Invalid value for 'messages[0].role'.",
	},
	model_not_found: {
		status: 404,
		type: 'invalid_request_error',
		code: 'model_not_found',
		message: (o) => `The model \`${o.model}\` does not exist or you do not have access to it.`,
	},
};

function error(fault: HttpFault, o: ErrorOptions) {
	const e = ERRORS[fault];
	return {
		status: e.status,
		headers: stainlessErrorHeaders('x-request-id', e, o, true),
		body: {
			error: {
				message: messageOf(e.message, o),
				type: messageOf(e.type, o),
				param: null,
				code: e.code,
			},
		},
	};
}

function success(a: WireAnswer) {
	const shown = a.finish === 'empty_output' ? '' : a.text;
	const calling = a.toolCalls.length > 0 && a.finish === 'stop';
	const refused = a.finish === 'refused';
	const message = {
		role: 'assistant',
		// A reply of tool calls alone has null content.
		content: refused || (calling && shown === '') ? null : shown,
		refusal: refused ? a.text : null,
		...(a.toolCalls.length > 0
			? {
					tool_calls: a.toolCalls.map((call) => ({
						id: call.id,
						type: 'function',
						function: { name: call.name, arguments: JSON.stringify(call.arguments) },
					})),
				}
			: {}),
	};
	return {
		status: 200,
		headers: { ...JSON_HEADERS, 'x-request-id': a.requestId },
		body: {
			id: `chatcmpl-${a.requestId.slice(4)}`,
			object: 'chat.completion',
			created: Math.floor(Date.now() / 1000),
			model: a.model,
			choices: [
				{
					index: 0,
					message,
					finish_reason: finishReason(a),
				},
			],
			usage: {
				prompt_tokens: a.usage.input,
				completion_tokens: a.usage.output,
				total_tokens: a.usage.input + a.usage.output,
			},
		},
	};
}

/** OpenAI's path, and Groq's (`GROQ_BASE_URL` + `/openai/v1/...`), which speaks the same wire. */
const CHAT_PATHS = new Set(['/v1/chat/completions', '/openai/v1/chat/completions']);

export const openaiWire: ProviderWire = {
	name: 'openai',
	basePath: '/v1',
	toolCallIdPrefix: 'call',
	readCall(request, body) {
		if (!CHAT_PATHS.has(request.url.pathname)) return undefined;
		const format = body.response_format as { type?: string } | undefined;
		const continuation = splitContinuation(body.messages, CHAT_TURNS);
		const messages = continuation?.messages ?? body.messages;
		const options = body.stream_options as { include_usage?: boolean } | undefined;
		return {
			model: String(body.model ?? ''),
			promptText: messagesText(messages),
			wantsJson: format?.type === 'json_object' || format?.type === 'json_schema',
			apiKey: bearer(request),
			stream: body.stream === true,
			streamUsage: options?.include_usage === true,
			continued: continuation?.sent,
			conversation: readChatConversation({ ...body, messages }, true),
		};
	},
	readListRequest(request) {
		if (!/^\/(v1|v1beta)\/models$/.test(request.url.pathname)) return undefined;
		// A bearer key, or none: the key headers of the other wires on this path claim theirs.
		return { key: bearer(request), byPathOnly: true };
	},
	modelList: (models) => ({ data: models.map((id) => ({ id, object: 'model' })), object: 'list' }),
	error,
	success,
	stream: openaiStream,
	streamError: (fault, o) => sseEvent(error(fault, o).body),
	limitHeaders: (states) => openAiLimitHeaders(states),
};
