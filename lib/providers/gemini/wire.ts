/**
 * Gemini's generateContent on the wire, for the provider emulator, on both API versions: its
 * answers and its errors (google.rpc statuses with typed details). Not imported by the
 * adapter or the registry.
 */
import { splitContinuation } from '../wireContinuation';
import type { TurnReader } from '../wireContinuation';
import {
	emptyConversation,
	isObject,
	JSON_HEADERS,
	list,
	messageOf,
	sseEvent,
	textOf,
} from '../wireFormat';
import type {
	ConversationRead,
	ErrorOptions,
	HttpFault,
	Json,
	MessageOf,
	ProviderWire,
	WireAnswer,
} from '../wireFormat';
import { FREE_TIER_REQUESTS, limitDetails, QUOTA_MESSAGE, quotaDetails } from './wireQuota';
import { blockedPrompt, geminiStream, usageMetadata } from './wireStream';

interface GeminiError {
	code: number;
	status: string;
	message: MessageOf;
	details?: (o: ErrorOptions) => unknown[];
}

const ERRORS: Record<HttpFault, GeminiError> = {
	rate_limited: {
		code: 429,
		status: 'RESOURCE_EXHAUSTED',
		message: (o) =>
			o.limit
				? `${QUOTA_MESSAGE} For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.`
				: QUOTA_MESSAGE,
		details: (o) =>
			o.limit
				? limitDetails(o.limit, o.model)
				: quotaDetails(
						FREE_TIER_REQUESTS,
						'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
						'10',
						`${o.retryAfterS ?? 22}s`,
						o.model,
					),
	},
	quota_exhausted: {
		code: 429,
		status: 'RESOURCE_EXHAUSTED',
		message: QUOTA_MESSAGE,
		details: (o) =>
			quotaDetails(
				FREE_TIER_REQUESTS,
				'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
				'250',
				'43200s',
				o.model,
			),
	},
	overloaded: {
		code: 503,
		status: 'UNAVAILABLE',
		message: 'The model is overloaded. Please try again later.',
	},
	server_error: {
		code: 500,
		status: 'INTERNAL',
		message:
			'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
	},
	context_too_long: {
		code: 400,
		status: 'INVALID_ARGUMENT',
		message:
			'The input token count (1100000) exceeds the maximum number of tokens allowed (1048576).',
	},
	auth: {
		code: 400,
		status: 'INVALID_ARGUMENT',
		message: 'API key not valid. Please pass a valid API key.',
		details: () => [
			{
				'@type': 'type.googleapis.com/google.rpc.ErrorInfo',
				reason: 'API_KEY_INVALID',
				domain: 'googleapis.com',
				metadata: { service: 'generativelanguage.googleapis.com' },
			},
		],
	},
	bad_request: {
		code: 400,
		status: 'INVALID_ARGUMENT',
		message: (o) =>
			o.message ?? 'Invalid JSON payload received. Unknown name "contentz": Cannot find field.',
	},
	model_not_found: {
		code: 404,
		status: 'NOT_FOUND',
		message: (o) =>
			`models/${o.model} is not found for API version v1beta, or is not supported for generateContent.`,
	},
};

function error(fault: HttpFault, o: ErrorOptions) {
	const e = ERRORS[fault];
	const details = e.details?.(o) ?? [];
	return {
		status: e.code,
		headers: { ...JSON_HEADERS },
		body: {
			error: {
				code: e.code,
				message: messageOf(e.message, o),
				status: e.status,
				...(details.length ? { details } : {}),
			},
		},
	};
}

function success(a: WireAnswer) {
	if (a.finish === 'refused')
		return { status: 200, headers: { ...JSON_HEADERS }, body: blockedPrompt(a) };
	const shown = a.finish === 'empty_output' ? '' : a.text;
	const calling = a.toolCalls.length > 0 && a.finish === 'stop';
	const parts: unknown[] = [];
	if (a.finish !== 'empty_output' && !(calling && shown === '')) parts.push({ text: shown });
	// Gemini's generateContent sends function calls without ids: they are matched by name.
	for (const call of a.toolCalls)
		parts.push({ functionCall: { name: call.name, args: call.arguments } });
	return {
		status: 200,
		headers: { ...JSON_HEADERS },
		body: {
			candidates: [
				{
					content: { role: 'model', parts },
					finishReason: a.finish === 'truncated' ? 'MAX_TOKENS' : 'STOP',
					index: 0,
				},
			],
			usageMetadata: usageMetadata(a),
			modelVersion: a.model,
			responseId: a.requestId,
		},
	};
}

function readTools(body: Json, read: ConversationRead): void {
	for (const tool of list(body.tools)) {
		if (!isObject(tool)) continue;
		for (const declaration of list(tool.functionDeclarations)) {
			if (!isObject(declaration) || typeof declaration.name !== 'string') continue;
			read.tools.push(declaration.name);
			read.toolText += JSON.stringify(declaration);
		}
	}
	read.shape.hasTools = read.tools.length > 0;
}

/** functionCall parts in "model" turns, functionResponse parts in the user turn after. */
function readConversation(body: Json): ConversationRead {
	const read = emptyConversation();
	readTools(body, read);
	let called: string[] = [];
	for (const content of list(body.contents)) {
		if (!isObject(content)) continue;
		const parts = list(content.parts).filter(isObject);
		if (content.role === 'model') {
			read.shape.turn++;
			called = [];
			for (const part of parts) {
				if (!isObject(part.functionCall)) continue;
				called.push(String(part.functionCall.name));
				read.toolText += JSON.stringify(part.functionCall.args ?? {});
			}
			continue;
		}
		let responded = false;
		for (const part of parts) {
			if (!isObject(part.functionResponse)) continue;
			responded = true;
			read.shape.toolResults++;
			read.toolText += JSON.stringify(part.functionResponse.response ?? {});
			if (!called.includes(String(part.functionResponse.name)))
				read.problem ??=
					'Please ensure that function response turn comes immediately after a function call turn.';
		}
		called = [];
		if (!responded && parts.some((part) => typeof part.text === 'string')) read.shape.turn = 0;
	}
	return read;
}

const GENERATE =
	/^\/(v1|v1beta|v1alpha)\/models\/([^:/]+):(generateContent|streamGenerateContent)$/;

/** A content's text, when it has the role and text parts alone. */
function textFrom(content: unknown, role: string): string | undefined {
	if (!isObject(content) || content.role !== role) return undefined;
	const parts = list(content.parts);
	if (parts.some((part) => !isObject(part) || typeof part.text !== 'string')) return undefined;
	return textOf(parts);
}

const TURNS: TurnReader = {
	userText: (content) => textFrom(content, 'user'),
	answerText: (content) => textFrom(content, 'model'),
};

export const geminiWire: ProviderWire = {
	name: 'gemini',
	basePath: '',
	toolCallIdPrefix: 'call',
	readCall(request, body) {
		const match = GENERATE.exec(request.url.pathname);
		if (!match) return undefined;
		const continuation = splitContinuation(body.contents, TURNS);
		const contents = continuation?.messages ?? body.contents;
		const text = Array.isArray(contents)
			? contents.map((c) => textOf((c as { parts?: unknown })?.parts)).join('\n')
			: textOf(contents);
		const config = (body.generationConfig ?? {}) as { responseMimeType?: string };
		const system = (body.systemInstruction ?? {}) as { parts?: unknown };
		return {
			model: decodeURIComponent(match[2]),
			promptText: `${textOf(system.parts)}\n${text}`,
			wantsJson: config.responseMimeType === 'application/json',
			apiKey: request.header('x-goog-api-key') || (request.url.searchParams.get('key') ?? ''),
			stream: match[3] === 'streamGenerateContent',
			streamUsage: true,
			continued: continuation?.sent,
			conversation: readConversation({ ...body, contents }),
		};
	},
	readListRequest(request) {
		if (!/^\/(v1|v1beta)\/models$/.test(request.url.pathname)) return undefined;
		const key = request.header('x-goog-api-key') || (request.url.searchParams.get('key') ?? '');
		if (!request.header('x-goog-api-key') && !request.url.searchParams.has('key')) return undefined;
		return { key };
	},
	modelList: (models) => ({
		models: models.map((name) => ({
			name: `models/${name}`,
			displayName: name,
			supportedGenerationMethods: ['generateContent', 'countTokens'],
		})),
	}),
	error,
	success,
	stream: geminiStream,
	streamError: (fault, o) => sseEvent(error(fault, o).body),
};
