/**
 * What a provider's wire format tells the provider emulator: how to read a model call and a
 * model-list request, and the status, headers and body it answers with for success and for
 * every error class, as the real API sends them (shared notes, provider-errors.md). Each wire
 * lives in its provider's folder (`wire.ts`); only the emulator imports them, never the
 * registry or an adapter, so the nodes' bundles do not carry them.
 */
import type { LimitStates } from './rateLimits';
import type { WireFormat } from './types';

/** Error classes a wire can answer with as an HTTP error. */
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

/** How an answer ends: normally, or with one of the output faults. */
export type Finish = 'stop' | OutputFault;

export type Json = Record<string, unknown>;

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
	/** The limit a rate_limited answer ran into, when the emulator's limits refused the call. */
	limit?: LimitExceeded;
}

/** A per-minute limit a call did not fit, as a provider's 429 names it. */
export interface LimitExceeded {
	kind: 'requests' | 'tokens';
	/** The limit per minute. */
	limit: number;
	/** Ms until the call would fit. */
	retryAfterMs: number;
	/** Of the limit, used in the last minute (the limit when omitted). */
	used?: number;
	/** What the call asked for: 1 request, or its input tokens (1 when omitted). */
	requested?: number;
}

/** A tool call the emulator answers with; ids are made per provider where its wire has them. */
export interface WireToolCall {
	id: string;
	name: string;
	arguments: Record<string, unknown>;
}

/** A 200 answer to build: output faults change its stop reason or content. */
export interface WireAnswer {
	model: string;
	text: string;
	finish: Finish;
	usage: Usage;
	requestId: string;
	toolCalls: WireToolCall[];
}

/** What the emulator reads from a request's conversation, for rule filters and turns. */
export interface ConversationShape {
	/** Tool results anywhere in the request. */
	toolResults: number;
	/** Model turns since the last message a person wrote: the index of the turn to answer with. */
	turn: number;
	/** Whether the request offers the model any tools. */
	hasTools: boolean;
}

/** What a request's conversation holds, read from its provider's wire shape. */
export interface ConversationRead {
	shape: ConversationShape;
	tools: string[];
	/** Tool results, tool calls and tool definitions as text, so usage counts them like a provider would. */
	toolText: string;
	/** A mistake the real provider rejects with a 400, in its own words. */
	problem?: string;
}

/** A conversation before any of it is read. */
export function emptyConversation(): ConversationRead {
	return { shape: { toolResults: 0, turn: 0, hasTools: false }, tools: [], toolText: '' };
}

/** An HTTP request as a wire reads it. */
export interface WireRequest {
	url: URL;
	/** A request header, or '' when absent. */
	header(name: string): string;
}

/** One model call, read from its request. */
export interface WireCall {
	model: string;
	/** The conversation's text, to count usage and requests per prompt. */
	promptText: string;
	wantsJson: boolean;
	apiKey: string;
	/** The client asked for the answer as a stream (Ollama streams unless told not to). */
	stream: boolean;
	/** Whether a stream ends with usage: OpenAI's only with `stream_options.include_usage`. */
	streamUsage: boolean;
	/**
	 * The partial answer the conversation ends with (a broken stream being continued), left
	 * out of the prompt text and the conversation read.
	 */
	continued?: string;
	conversation: ConversationRead;
}

/** An answer cut into the pieces a stream sends: its text, then each tool call's arguments as JSON text. */
export interface StreamPieces {
	text: string[];
	toolArguments: string[][];
}

/**
 * A 200 answer as a stream: its headers, and its chunks, each written at once; the first
 * opens the stream, the last ends it (with usage and stop reason).
 */
export interface WireStream {
	headers: Record<string, string>;
	chunks: string[];
}

/** The error classes a stream can fail with after it began. */
export type StreamErrorFault = 'server_error' | 'overloaded';

/** A request for the model list, and the key it carries. */
export interface ListRequest {
	key: string;
	/**
	 * Only the path says it is this wire's, and other wires share the path: another wire that
	 * recognises the request by its key header takes it.
	 */
	byPathOnly?: boolean;
}

export interface ProviderWire {
	readonly name: WireFormat;
	/** Appended to the emulator's URL to make the base URL its SDK takes. */
	readonly basePath: string;
	/** How the ids of the tool calls it answers with begin. */
	readonly toolCallIdPrefix: string;
	/** The model call a POST is, or undefined when the path is not this wire's. */
	readCall(request: WireRequest, body: Json): WireCall | undefined;
	/** The model-list request a GET is, or undefined when it is not this wire's. */
	readListRequest(request: WireRequest): ListRequest | undefined;
	modelList(models: readonly string[]): Json;
	error(fault: HttpFault, options: ErrorOptions): WireResponse;
	success(answer: WireAnswer): WireResponse;
	/** The same answer streamed, in the provider's own events. */
	stream(answer: WireAnswer, pieces: StreamPieces, call: WireCall): WireStream;
	/** The error event a stream carries when it fails after its 200 was sent. */
	streamError(fault: StreamErrorFault, options: ErrorOptions): string;
	/** The rate-limit headers the provider sends with every answer; none where it sends none. */
	limitHeaders?(states: LimitStates, now: number): Record<string, string>;
}

/** One server-sent event: its data as JSON, under an event name where the provider sends one. */
export function sseEvent(data: unknown, event?: string): string {
	return `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`;
}

/** A stream's chunks: the opening events go with its first frame, the closing ones come last. */
export function streamChunks(open: string, frames: string[], close: string): string[] {
	if (frames.length === 0) return [open, close];
	return [open + frames[0], ...frames.slice(1), close];
}

export const SSE_HEADERS = {
	'content-type': 'text/event-stream; charset=utf-8',
	'cache-control': 'no-cache',
};

export const JSON_HEADERS = { 'content-type': 'application/json' };

/**
 * An error reply's headers as the Stainless-built SDKs read them: JSON, the request id under
 * the provider's own name, `x-should-retry` where the API sends one, and the retry hint.
 */
export function stainlessErrorHeaders(
	requestIdHeader: string,
	entry: { shouldRetry?: boolean; hint?: boolean },
	o: ErrorOptions,
	hintInMs = false,
): Record<string, string> {
	return {
		...JSON_HEADERS,
		[requestIdHeader]: o.requestId,
		...(entry.shouldRetry !== undefined ? { 'x-should-retry': String(entry.shouldRetry) } : {}),
		...(entry.hint ? retryHeaders(o, hintInMs) : {}),
	};
}

/** `retry-after` in whole seconds, and `retry-after-ms` where the provider sends it too. */
export function retryHeaders(o: ErrorOptions, withMs = false): Record<string, string> {
	if (o.retryAfterS === undefined) return {};
	const headers: Record<string, string> = { 'retry-after': String(Math.ceil(o.retryAfterS)) };
	if (withMs) headers['retry-after-ms'] = String(Math.round(o.retryAfterS * 1000));
	return headers;
}

/** A message given as text, or made from the call's options. */
export type MessageOf = string | ((o: ErrorOptions) => string);

export function messageOf(message: MessageOf, o: ErrorOptions): string {
	return typeof message === 'string' ? message : message(o);
}

export function bearer(request: WireRequest): string {
	return request.header('authorization').replace(/^Bearer\s+/i, '');
}

export function isObject(value: unknown): value is Json {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function list(value: unknown): unknown[] {
	return Array.isArray(value) ? value : [];
}

export function asText(value: unknown): string {
	return typeof value === 'string' ? value : JSON.stringify(value ?? '');
}

/** A message's text: a string, or the text parts of a list of parts. */
export function textOf(content: unknown): string {
	if (typeof content === 'string') return content;
	if (Array.isArray(content)) {
		return content
			.map((part) =>
				part && typeof part === 'object' && 'text' in part
					? String((part as { text: unknown }).text)
					: '',
			)
			.join('');
	}
	return '';
}

export function messagesText(messages: unknown): string {
	if (!Array.isArray(messages)) return '';
	return messages.map((m) => textOf((m as { content?: unknown })?.content)).join('\n');
}
