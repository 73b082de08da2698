/**
 * Anthropic's Messages API on the wire, for the provider emulator: `POST /v1/messages`, its
 * answers and its errors. Not imported by the adapter or the registry.
 */
import {
	bearer,
	emptyConversation,
	isObject,
	JSON_HEADERS,
	list,
	messageOf,
	messagesText,
	stainlessErrorHeaders,
	sseEvent,
	textOf,
} from '../wireFormat';
import { splitContinuation } from '../wireContinuation';
import type { TurnReader } from '../wireContinuation';
import type {
	ConversationRead,
	ErrorOptions,
	HttpFault,
	Json,
	LimitExceeded,
	MessageOf,
	ProviderWire,
	WireAnswer,
} from '../wireFormat';
import { anthropicLimitHeaders } from './rateLimits';
import { anthropicStream, hasTextBlock, stopReason } from './wireStream';

interface AnthropicError {
	status: number;
	type: string;
	message: MessageOf;
	/** Beside `type` and `message` in the error object. */
	extra?: Json;
	/** The `x-should-retry` header, where the API sends one. */
	shouldRetry?: boolean;
	/** Whether a scripted retry hint goes in `retry-after`. */
	hint?: boolean;
}

/** The 429 message naming the limit a call ran into, as Anthropic words it. */
function limitMessage(model: string, l: LimitExceeded): string {
	return `This request would exceed your organization's rate limit of ${l.limit.toLocaleString('en-US')} ${l.kind} per minute (org: org-emulator, model: ${model}). For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.`;
}

const ERRORS: Record<HttpFault, AnthropicError> = {
	rate_limited: {
		status: 429,
		type: 'rate_limit_error',
		message: (o) =>
			o.limit
				? limitMessage(o.model, o.limit)
				: `This request would exceed the rate limit for your organization of 50 requests per minute for ${o.model}. Please try again later.`,
		shouldRetry: true,
		hint: true,
	},
	quota_exhausted: {
		status: 429,
		type: 'rate_limit_error',
		message:
			'You have reached your specified API usage limits. You will regain access on 2026-12-01 at 00:00 UTC.',
		extra: { details: { error_code: 'enforced_spend_limit_reached' } },
		shouldRetry: false,
	},
	overloaded: {
		status: 529,
		type: 'overloaded_error',
		message: 'Overloaded',
		shouldRetry: true,
		hint: true,
	},
	server_error: {
		status: 500,
		type: 'api_error',
		message: 'Internal server error',
		shouldRetry: true,
	},
	context_too_long: {
		status: 400,
		type: 'invalid_request_error',
		message: 'prompt is too long: 215000 tokens > 200000 maximum',
	},
	auth: {
		status: 401,
		type: 'authentication_error',
		message: 'invalid x-api-key',
		shouldRetry: false,
	},
	bad_request: {
		status: 400,
		type: 'invalid_request_error',
		message: (o) => o.message ?? 'messages.0.content: Input should be a valid list',
	},
	model_not_found: { status: 404, type: 'not_found_error', message: (o) => `model: ${o.model}` },
};

function error(fault: HttpFault, o: ErrorOptions) {
	const e = ERRORS[fault];
	return {
		status: e.status,
		headers: stainlessErrorHeaders('request-id', e, o),
		body: {
			type: 'error',
			error: { type: e.type, message: messageOf(e.message, o), ...e.extra },
			request_id: o.requestId,
		},
	};
}

function success(a: WireAnswer) {
	const content: unknown[] = [];
	// Anthropic sends no empty text block beside tool calls.
	if (hasTextBlock(a)) content.push({ type: 'text', text: a.text });
	for (const call of a.toolCalls)
		content.push({ type: 'tool_use', id: call.id, name: call.name, input: call.arguments });
	return {
		status: 200,
		headers: { ...JSON_HEADERS, 'request-id': a.requestId },
		body: {
			id: `msg_${a.requestId.slice(4)}`,
			type: 'message',
			role: 'assistant',
			model: a.model,
			content,
			stop_reason: stopReason(a),
			stop_sequence: null,
			usage: { input_tokens: a.usage.input, output_tokens: a.usage.output },
		},
	};
}

const unansweredToolUse = (at: string, ids: string[]) =>
	`${at}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${ids.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;

/** Tools offered: each needs a name and (unless a server tool) an input schema. */
function readTools(body: Json, read: ConversationRead): void {
	list(body.tools).forEach((tool, i) => {
		if (!isObject(tool) || typeof tool.name !== 'string') {
			read.problem ??= `tools.${i}.name: Field required`;
			return;
		}
		if (tool.type === undefined && !isObject(tool.input_schema))
			read.problem ??= `tools.${i}.custom.input_schema: Field required`;
		read.tools.push(tool.name);
		read.toolText += JSON.stringify(tool);
	});
	read.shape.hasTools = read.tools.length > 0;
}

/** tool_use blocks in assistant turns, tool_result blocks in the user turn right after. */
function readConversation(body: Json): ConversationRead {
	const read = emptyConversation();
	readTools(body, read);
	let pending: string[] = [];
	list(body.messages).forEach((message, i) => {
		if (!isObject(message)) return;
		const blocks = Array.isArray(message.content) ? message.content.filter(isObject) : [];
		if (message.role === 'assistant') {
			if (pending.length > 0) read.problem ??= unansweredToolUse(`messages.${i}`, pending);
			read.shape.turn++;
			pending = [];
			for (const block of blocks) {
				if (block.type !== 'tool_use') continue;
				pending.push(String(block.id));
				read.toolText += JSON.stringify(block.input ?? {});
			}
			return;
		}
		const answered = new Set<string>();
		let spoke = typeof message.content === 'string';
		blocks.forEach((block, j) => {
			if (block.type === 'tool_result') {
				read.shape.toolResults++;
				const id = String(block.tool_use_id);
				if (!pending.includes(id))
					read.problem ??= `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
				answered.add(id);
				read.toolText += typeof block.content === 'string' ? block.content : textOf(block.content);
			} else if (block.type === 'text') spoke = true;
		});
		const unanswered = pending.filter((id) => !answered.has(id));
		if (unanswered.length > 0) read.problem ??= unansweredToolUse(`messages.${i - 1}`, unanswered);
		pending = [];
		if (spoke && answered.size === 0) read.shape.turn = 0;
	});
	return read;
}

/** A message's text, when it is a person's (or an assistant's without tool calls). */
function textFrom(message: unknown, role: string): string | undefined {
	if (!isObject(message) || message.role !== role) return undefined;
	if (list(message.content).some((block) => isObject(block) && block.type !== 'text'))
		return undefined;
	return textOf(message.content);
}

const TURNS: TurnReader = {
	userText: (message) => textFrom(message, 'user'),
	answerText: (message) => textFrom(message, 'assistant'),
};

export const anthropicWire: ProviderWire = {
	name: 'anthropic',
	basePath: '',
	toolCallIdPrefix: 'toolu',
	readCall(request, body) {
		if (request.url.pathname !== '/v1/messages') return undefined;
		const continuation = splitContinuation(body.messages, TURNS);
		const messages = continuation?.messages ?? body.messages;
		const conversation = readConversation({ ...body, messages });
		// The API refuses a prefill it cannot continue cleanly.
		if (continuation && !continuation.instructed && /\s$/.test(continuation.sent))
			conversation.problem ??=
				'messages: final assistant content cannot end with trailing whitespace';
		return {
			model: String(body.model ?? ''),
			promptText: `${textOf(body.system)}\n${messagesText(messages)}`,
			wantsJson: false,
			apiKey: request.header('x-api-key') || bearer(request),
			stream: body.stream === true,
			streamUsage: true,
			continued: continuation?.sent,
			conversation,
		};
	},
	readListRequest(request) {
		const key = request.header('x-api-key');
		if (!/^\/(v1|v1beta)\/models$/.test(request.url.pathname) || !key) return undefined;
		return { key };
	},
	modelList: (models) => ({
		data: models.map((id) => ({ id, display_name: id, type: 'model' })),
		has_more: false,
		first_id: models[0],
		last_id: models[models.length - 1],
	}),
	error,
	success,
	stream: anthropicStream,
	streamError: (fault, o) => sseEvent(error(fault, o).body, 'error'),
	limitHeaders: anthropicLimitHeaders,
};
