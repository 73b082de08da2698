/**
 * What each provider puts on the wire, for success and for every error class: status,
 * headers and body, as their real APIs send them (shared notes, provider-errors.md).
 */

import type { WireFormat } from '../providers/types';

/** The wire formats the emulator speaks, as the provider registry names them. */
export type WireProvider = WireFormat;

/** Error classes the emulator can answer with as an HTTP error. */
export const HTTP_FAULTS = [
	'rate_limited',
	'quota_exhausted',
	'overloaded',
	'server_error',
	'context_too_long',
	'auth',
	'bad_request',
	'model_not_found',
] as const;
export type HttpFault = (typeof HTTP_FAULTS)[number];

/** Answers that arrive with HTTP 200 but are not usable. */
export const OUTPUT_FAULTS = ['refused', 'truncated', 'empty_output', 'invalid_output'] as const;
export type OutputFault = (typeof OUTPUT_FAULTS)[number];

export interface WireResponse {
	status: number;
	headers: Record<string, string>;
	body: unknown;
}

export interface Usage {
	input: number;
	output: number;
}

export interface ErrorOptions {
	model: string;
	requestId: string;
	/** Seconds the server asks the client to wait, where the class carries a hint. */
	retryAfterS?: number;
	/** What a bad_request says, when the emulator found a real fault in the request. */
	message?: string;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function anthropicError(
	status: number,
	type: string,
	message: string,
	o: ErrorOptions,
	extra: Record<string, unknown> = {},
	headers: Record<string, string> = {},
): WireResponse {
	return {
		status,
		headers: { ...JSON_HEADERS, 'request-id': o.requestId, ...headers },
		body: { type: 'error', error: { type, message, ...extra }, request_id: o.requestId },
	};
}

function openaiError(
	status: number,
	type: string,
	code: string | null,
	message: string,
	o: ErrorOptions,
	headers: Record<string, string> = {},
): WireResponse {
	return {
		status,
		headers: { ...JSON_HEADERS, 'x-request-id': o.requestId, ...headers },
		body: { error: { message, type, param: null, code } },
	};
}

function geminiError(
	code: number,
	status: string,
	message: string,
	details: unknown[] = [],
): WireResponse {
	return {
		status: code,
		headers: { ...JSON_HEADERS },
		body: { error: { code, message, status, ...(details.length ? { details } : {}) } },
	};
}

function ollamaError(status: number, message: string): WireResponse {
	return { status, headers: { ...JSON_HEADERS }, body: { error: message } };
}

function retryHeaders(o: ErrorOptions, withMs = false): Record<string, string> {
	if (o.retryAfterS === undefined) return {};
	const headers: Record<string, string> = { 'retry-after': String(Math.ceil(o.retryAfterS)) };
	if (withMs) headers['retry-after-ms'] = String(Math.round(o.retryAfterS * 1000));
	return headers;
}

export function errorResponse(
	provider: WireProvider,
	fault: HttpFault,
	o: ErrorOptions,
): WireResponse {
	const m = o.model;
	switch (provider) {
		case 'anthropic':
			switch (fault) {
				case 'rate_limited':
					return anthropicError(
						429,
						'rate_limit_error',
						`This request would exceed the rate limit for your organization of 50 requests per minute for ${m}. Please try again later.`,
						o,
						{},
						{ 'x-should-retry': 'true', ...retryHeaders(o) },
					);
				case 'quota_exhausted':
					return anthropicError(
						429,
						'rate_limit_error',
						'You have reached your specified API usage limits. You will regain access on 2026-12-01 at 00:00 UTC.',
						o,
						{ details: { error_code: 'enforced_spend_limit_reached' } },
						{ 'x-should-retry': 'false' },
					);
				case 'overloaded':
					return anthropicError(
						529,
						'overloaded_error',
						'Overloaded',
						o,
						{},
						{ 'x-should-retry': 'true', ...retryHeaders(o) },
					);
				case 'server_error':
					return anthropicError(
						500,
						'api_error',
						'Internal server error',
						o,
						{},
						{ 'x-should-retry': 'true' },
					);
				case 'context_too_long':
					return anthropicError(
						400,
						'invalid_request_error',
						'prompt is too long: 215000 tokens > 200000 maximum',
						o,
					);
				case 'auth':
					return anthropicError(
						401,
						'authentication_error',
						'invalid x-api-key',
						o,
						{},
						{ 'x-should-retry': 'false' },
					);
				case 'bad_request':
					return anthropicError(
						400,
						'invalid_request_error',
						o.message ?? 'messages.0.content: Input should be a valid list',
						o,
					);
				case 'model_not_found':
					return anthropicError(404, 'not_found_error', `model: ${m}`, o);
			}
			break;
		case 'openai':
			switch (fault) {
				case 'rate_limited': {
					const wait = o.retryAfterS ?? 1.574;
					return openaiError(
						429,
						'tokens',
						'rate_limit_exceeded',
						`Rate limit reached for ${m} in organization org-emulator on tokens per min (TPM): Limit 200000, Used 199100, Requested 1600. Please try again in ${wait}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
						o,
						{ 'x-should-retry': 'true', ...retryHeaders(o, true) },
					);
				}
				case 'quota_exhausted':
					return openaiError(
						429,
						'insufficient_quota',
						'insufficient_quota',
						'You exceeded your current quota, please check your plan and billing details.',
						o,
						{ 'x-should-retry': 'false' },
					);
				case 'overloaded':
					return openaiError(
						503,
						'server_error',
						null,
						'The engine is currently overloaded, please try again later.',
						o,
						retryHeaders(o, true),
					);
				case 'server_error':
					return openaiError(
						500,
						'server_error',
						null,
						'The server had an error while processing your request. Sorry about that!',
						o,
					);
				case 'context_too_long':
					return openaiError(
						400,
						'invalid_request_error',
						'context_length_exceeded',
						"This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens. Please reduce the length of the messages.",
						o,
					);
				case 'auth':
					// The real API echoes a masked key; the emulator echoes none.
					return openaiError(
						401,
						'invalid_request_error',
						'invalid_api_key',
						'Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.',
						o,
					);
				case 'bad_request':
					return openaiError(
						400,
						'invalid_request_error',
						null,
						o.message ?? "Invalid value for 'messages[0].role'.",
						o,
					);
				case 'model_not_found':
					return openaiError(
						404,
						'invalid_request_error',
						'model_not_found',
						`The model \`${m}\` does not exist or you do not have access to it.`,
						o,
					);
			}
			break;
		case 'gemini':
			switch (fault) {
				case 'rate_limited':
					return geminiError(
						429,
						'RESOURCE_EXHAUSTED',
						'You exceeded your current quota, please check your plan and billing details.',
						[
							{
								'@type': 'type.googleapis.com/google.rpc.QuotaFailure',
								violations: [
									{
										quotaMetric:
											'generativelanguage.googleapis.com/generate_content_free_tier_requests',
										quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
										quotaDimensions: { model: m, location: 'global' },
										quotaValue: '10',
									},
								],
							},
							{
								'@type': 'type.googleapis.com/google.rpc.RetryInfo',
								retryDelay: `${o.retryAfterS ?? 22}s`,
							},
						],
					);
				case 'quota_exhausted':
					return geminiError(
						429,
						'RESOURCE_EXHAUSTED',
						'You exceeded your current quota, please check your plan and billing details.',
						[
							{
								'@type': 'type.googleapis.com/google.rpc.QuotaFailure',
								violations: [
									{
										quotaMetric:
											'generativelanguage.googleapis.com/generate_content_free_tier_requests',
										quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier',
										quotaDimensions: { model: m, location: 'global' },
										quotaValue: '250',
									},
								],
							},
							{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '43200s' },
						],
					);
				case 'overloaded':
					return geminiError(
						503,
						'UNAVAILABLE',
						'The model is overloaded. Please try again later.',
					);
				case 'server_error':
					return geminiError(
						500,
						'INTERNAL',
						'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
					);
				case 'context_too_long':
					return geminiError(
						400,
						'INVALID_ARGUMENT',
						'The input token count (1100000) exceeds the maximum number of tokens allowed (1048576).',
					);
				case 'auth':
					return geminiError(
						400,
						'INVALID_ARGUMENT',
						'API key not valid. Please pass a valid API key.',
						[
							{
								'@type': 'type.googleapis.com/google.rpc.ErrorInfo',
								reason: 'API_KEY_INVALID',
								domain: 'googleapis.com',
								metadata: { service: 'generativelanguage.googleapis.com' },
							},
						],
					);
				case 'bad_request':
					return geminiError(
						400,
						'INVALID_ARGUMENT',
						o.message ??
							'Invalid JSON payload received. Unknown name "contentz": Cannot find field.',
					);
				case 'model_not_found':
					return geminiError(
						404,
						'NOT_FOUND',
						`models/${m} is not found for API version v1beta, or is not supported for generateContent.`,
					);
			}
			break;
		case 'ollama':
			switch (fault) {
				case 'rate_limited':
					return {
						...ollamaError(429, 'too many requests, please try again later'),
						headers: { ...JSON_HEADERS, ...retryHeaders(o) },
					};
				case 'quota_exhausted':
					return ollamaError(
						429,
						'you have reached your weekly usage limit, upgrade for higher limits',
					);
				case 'overloaded':
					return ollamaError(
						503,
						'server busy, please try again.  maximum pending requests exceeded',
					);
				case 'server_error':
					return ollamaError(500, 'llama runner process has terminated: exit status 2');
				case 'context_too_long':
					return ollamaError(400, 'the input length exceeds the context length');
				case 'auth':
					return ollamaError(401, 'unauthorized');
				case 'bad_request':
					return ollamaError(400, o.message ?? 'invalid message format');
				case 'model_not_found':
					return ollamaError(404, `model '${m}' not found`);
			}
			break;
	}
	throw new Error(`no wire shape for ${provider}/${fault}`);
}

export type Finish = 'stop' | OutputFault;

/** A tool call the emulator answers with; ids are made per provider where its wire has them. */
export interface WireToolCall {
	id: string;
	name: string;
	arguments: Record<string, unknown>;
}

/**
 * A 200 answer in the provider's shape. Output faults change its stop reason or content;
 * tool calls ride along with the text (or alone), the way each provider sends them.
 */
export function successResponse(
	provider: WireProvider,
	model: string,
	text: string,
	finish: Finish,
	usage: Usage,
	requestId: string,
	toolCalls: WireToolCall[] = [],
): WireResponse {
	const shown = finish === 'empty_output' ? '' : text;
	const calling = toolCalls.length > 0 && finish === 'stop';
	switch (provider) {
		case 'anthropic': {
			const stop =
				finish === 'refused'
					? 'refusal'
					: finish === 'truncated'
						? 'max_tokens'
						: calling
							? 'tool_use'
							: 'end_turn';
			const content: unknown[] = [];
			// Anthropic sends no empty text block beside tool calls.
			if (finish !== 'empty_output' && !(calling && shown === ''))
				content.push({ type: 'text', text: shown });
			for (const call of toolCalls)
				content.push({ type: 'tool_use', id: call.id, name: call.name, input: call.arguments });
			return {
				status: 200,
				headers: { ...JSON_HEADERS, 'request-id': requestId },
				body: {
					id: `msg_${requestId.slice(4)}`,
					type: 'message',
					role: 'assistant',
					model,
					content,
					stop_reason: stop,
					stop_sequence: null,
					usage: { input_tokens: usage.input, output_tokens: usage.output },
				},
			};
		}
		case 'openai': {
			const refused = finish === 'refused';
			return {
				status: 200,
				headers: { ...JSON_HEADERS, 'x-request-id': requestId },
				body: {
					id: `chatcmpl-${requestId.slice(4)}`,
					object: 'chat.completion',
					created: Math.floor(Date.now() / 1000),
					model,
					choices: [
						{
							index: 0,
							message: {
								role: 'assistant',
								// A reply of tool calls alone has null content.
								content: refused || (calling && shown === '') ? null : shown,
								refusal: refused ? text : null,
								...(toolCalls.length > 0
									? {
											tool_calls: toolCalls.map((call) => ({
												id: call.id,
												type: 'function',
												function: { name: call.name, arguments: JSON.stringify(call.arguments) },
											})),
										}
									: {}),
							},
							finish_reason: finish === 'truncated' ? 'length' : calling ? 'tool_calls' : 'stop',
						},
					],
					usage: {
						prompt_tokens: usage.input,
						completion_tokens: usage.output,
						total_tokens: usage.input + usage.output,
					},
				},
			};
		}
		case 'gemini': {
			const usageMetadata = {
				promptTokenCount: usage.input,
				candidatesTokenCount: usage.output,
				totalTokenCount: usage.input + usage.output,
			};
			if (finish === 'refused') {
				// A blocked prompt: no candidates at all, only the feedback.
				return {
					status: 200,
					headers: { ...JSON_HEADERS },
					body: {
						promptFeedback: { blockReason: 'SAFETY' },
						usageMetadata: { promptTokenCount: usage.input, totalTokenCount: usage.input },
						modelVersion: model,
						responseId: requestId,
					},
				};
			}
			const parts: unknown[] = [];
			if (finish !== 'empty_output' && !(calling && shown === '')) parts.push({ text: shown });
			// Gemini's generateContent sends function calls without ids: they are matched by name.
			for (const call of toolCalls)
				parts.push({ functionCall: { name: call.name, args: call.arguments } });
			return {
				status: 200,
				headers: { ...JSON_HEADERS },
				body: {
					candidates: [
						{
							content: { role: 'model', parts },
							finishReason: finish === 'truncated' ? 'MAX_TOKENS' : 'STOP',
							index: 0,
						},
					],
					usageMetadata,
					modelVersion: model,
					responseId: requestId,
				},
			};
		}
		case 'ollama':
			return {
				status: 200,
				headers: { ...JSON_HEADERS },
				body: {
					model,
					created_at: new Date().toISOString(),
					message: {
						role: 'assistant',
						content: shown,
						// Ollama's tool calls carry no id; arguments are an object, not a string.
						...(toolCalls.length > 0
							? {
									tool_calls: toolCalls.map((call, index) => ({
										function: { index, name: call.name, arguments: call.arguments },
									})),
								}
							: {}),
					},
					done: true,
					done_reason: finish === 'truncated' ? 'length' : 'stop',
					total_duration: 1,
					prompt_eval_count: usage.input,
					eval_count: usage.output,
				},
			};
	}
}
