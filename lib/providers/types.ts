/**
 * What every provider has in common: the request and answer of one call, the adapter that
 * makes it, and the descriptor that tells the rest of the package everything else about the
 * provider (its credential, how to list its models, how to read its errors). The engine
 * builds on these types; nothing here depends on the engine.
 */

/**
 * The providers this package speaks to itself, by id. The registry holds a descriptor for
 * each and is checked against this list when it compiles.
 */
export type BuiltInProviderName =
	| 'anthropic'
	| 'gemini'
	| 'ollama'
	| 'openai'
	| 'openai_compatible';

/**
 * Every kind of tier: a built-in provider, or `connected`, a chat model another n8n node
 * supplies (its adapter comes with it, its errors are read through n8n's and LangChain's wrappers).
 */
export type ProviderName = BuiltInProviderName | 'connected';

/** Everything that can go wrong with a call, in one vocabulary for every provider. */
export const ERROR_CLASSES = [
	'rate_limited',
	'quota_exhausted',
	'overloaded',
	'server_error',
	'timeout',
	'connection',
	'context_too_long',
	'auth',
	'bad_request',
	'model_not_found',
	'refused',
	'truncated',
	'empty_output',
	'invalid_output',
] as const;

export type ErrorClass = (typeof ERROR_CLASSES)[number];

/** Where a server's "wait this long" came from. */
export type RetryHintSource =
	| 'retry-after-ms'
	| 'retry-after'
	| 'gemini-retry-info'
	| 'openai-message'
	| 'ollama-message';

export interface RetryHint {
	source: RetryHintSource;
	ms: number;
}

export interface TokenUsage {
	inputTokens: number;
	outputTokens: number;
}

/** A tool the model may call: its parameters are a JSON Schema object. */
export interface ToolDefinition {
	name: string;
	description?: string;
	parameters: Record<string, unknown>;
}

/** A call the model asked for; `id` links it to the tool result that answers it. */
export interface ToolCall {
	id: string;
	name: string;
	arguments: Record<string, unknown>;
}

/** The image types every provider here takes in a message. */
export const IMAGE_MEDIA_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;

/** An image sent with a user message: its media type and its bytes in base64. */
export interface ImageInput {
	mediaType: (typeof IMAGE_MEDIA_TYPES)[number];
	data: string;
}

/** One turn of a conversation, in one vocabulary for every provider. */
export type ChatMessage =
	| { role: 'system'; content: string }
	| { role: 'user'; content: string; images?: ImageInput[] }
	| { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
	| { role: 'tool'; toolCallId: string; name: string; content: string };

export interface CompletionRequest {
	model: string;
	/** The conversation so far; a single prompt is one user message. */
	messages: ChatMessage[];
	/** Tools the model may call, translated to each provider's format by its adapter. */
	tools?: ToolDefinition[];
	maxOutputTokens: number;
	temperature?: number;
	/** Ask the provider for JSON where it has a switch for it. */
	json?: boolean;
}

/** Why the model stopped, in one vocabulary for every provider. */
export type FinishReason = 'stop' | 'length' | 'refusal' | 'content_filter' | 'other';

export interface CompletionResponse {
	text: string;
	/** Calls the model asked for; a reply of tool calls alone is an answer. */
	toolCalls?: ToolCall[];
	finish: FinishReason;
	/** The provider's own words for a refusal or block, if it gave any. */
	refusalText?: string;
	usage: TokenUsage;
	requestId?: string;
	model: string;
	/** What the provider's headers said about its rate limits, where it sends them. */
	rateLimit?: RateLimitReading;
}

/** One limit as read at one moment. */
export interface LimitHeadroom {
	/** The limit per minute, when the provider says it. */
	limit?: number;
	remaining: number;
	/** Ms from the reading until the limit is full again. */
	resetMs: number;
}

/** What a provider's rate-limit headers said with one answer (rateLimits.ts reads them). */
export interface RateLimitReading {
	requests?: LimitHeadroom;
	tokens?: LimitHeadroom;
}

/** One piece of a streamed answer. */
export type StreamEvent =
	/** Text as it arrives. */
	| { type: 'text'; text: string }
	/** One tool call, passed on only once complete (its arguments assembled from their deltas). */
	| { type: 'tool_call'; call: ToolCall }
	/** The last event: the whole answer, its finish reason and usage. */
	| { type: 'done'; response: CompletionResponse };

export interface CallOptions {
	signal: AbortSignal;
	/** The SDK's own timeout, a safety net behind the engine's signal. */
	timeoutMs: number;
}

/**
 * One provider behind one interface. An adapter makes exactly one HTTP request per call
 * (SDK retries off) and throws the SDK's own error on failure: classifyError reads it.
 */
export interface ProviderAdapter {
	/** The provider's id (its descriptor's `id`). */
	readonly provider: string;
	complete(request: CompletionRequest, options: CallOptions): Promise<CompletionResponse>;
	/**
	 * The same call, streamed; it throws the SDK's own error as complete() does: before the
	 * first event that is a failed call, after it a broken stream. An adapter without it
	 * answers whole.
	 */
	stream?(request: CompletionRequest, options: CallOptions): AsyncIterable<StreamEvent>;
}

export interface AdapterSettings {
	apiKey?: string;
	baseUrl?: string;
	timeoutMs: number;
}

/** Where a provider is reached: what a credential (or a tier's own base URL) gives. */
export interface Connection {
	apiKey?: string;
	baseUrl?: string;
}

/** One entry of a provider's model list. */
export interface ModelInfo {
	id: string;
	/** The provider's display name, when it has one. */
	name?: string;
}

/** A failed HTTP answer, read out of whichever SDK threw it. */
export interface WireFailure {
	status: number;
	headers?: unknown;
	/** The provider's error object: `{type, message, code, details}` or Gemini's `{code, status, message, details}`. */
	body: Record<string, unknown>;
	/** The error's message; Ollama's native errors are a bare string. */
	text: string;
	requestId?: string;
	/**
	 * The built-in provider whose wire the failure came from, when the error was read out of
	 * another wrapper (a connected model): its own rules then apply.
	 */
	family?: BuiltInProviderName;
}

/** The wire formats the provider emulator speaks. */
export type WireFormat = 'anthropic' | 'openai' | 'gemini' | 'ollama';

/**
 * Everything the package knows about one provider, in one place: the node's Provider
 * dropdown, the credential it reads, chain validation, drills, error classification, the
 * model picker and the emulator's model lists all derive from it.
 */
export interface ProviderDescriptor<Id extends string = string> {
	readonly id: Id;
	/** As shown in the Provider dropdown and in messages. */
	readonly label: string;
	/** Shown under the option in the dropdown. */
	readonly hint?: string;
	/** The n8n credential type that holds its key and base URL, and that credential's name. */
	readonly credential: { readonly type: string; readonly displayName: string };
	/**
	 * A credential read when the provider's own is not selected, for workflows saved before it
	 * had one. Its key still goes only to its own host: a tier's Base URL elsewhere gets no key.
	 */
	readonly fallbackCredential?: { readonly type: string; readonly displayName: string };
	/** Whether a call without an API key cannot succeed. */
	readonly needsKey: boolean;
	/** Whether a tier that names its own base URL may run without any credential (self-hosted servers). */
	readonly baseUrlReplacesCredential: boolean;
	/** Where the provider is when neither the tier nor the credential says; none: a base URL is required. */
	readonly defaultBaseUrl?: string;
	/** The wire format it speaks, for the emulator. */
	readonly wire: WireFormat;
	/** Well-known models, the first the default for a new tier; the emulator lists these. */
	readonly models: readonly string[];
	/** The status this provider answers when overloaded: what a drill outage returns. */
	readonly overloadedStatus: number;
	/**
	 * Whether the provider continues a conversation's final assistant message (a prefill): a
	 * broken stream's text then goes back as that message alone, without an instruction.
	 */
	readonly prefill: boolean;
	createAdapter(settings: AdapterSettings): ProviderAdapter;
	/** The models this connection can use, from the provider's own list endpoint. */
	listModels(connection: Connection, signal?: AbortSignal): Promise<ModelInfo[]>;
	/**
	 * The provider's own reading of a failed HTTP answer, where it differs from the shared
	 * rules (a spend limit sent as 429, a bad key sent as 400); undefined leaves it to them.
	 */
	classifyHttp?(failure: WireFailure): ErrorClass | undefined;
	/** A retry hint the provider puts in its error body, when the headers had none. */
	retryHint?(failure: WireFailure): RetryHint | undefined;
	/**
	 * The failed HTTP answer inside whatever its adapter threw (its SDK's error class), or
	 * undefined when the error is not one. An error this does not read is taken as an HTTP
	 * failure only if it has a numeric `status`, with its message as the text.
	 */
	readFailure?(error: unknown): WireFailure | undefined;
	/** Its rate-limit headers (with answers and 429s), for pacing; none where it sends none. */
	readRateLimits?(headers: unknown, now?: number): RateLimitReading | undefined;
	/** Words its SDK puts in the name or message of an error for a call that never connected. */
	readonly connectionWords?: readonly string[];
	/**
	 * The class of an error none of the rules read. Unset: the request never left (a local
	 * bug or a refused setting), not retried.
	 */
	readonly unreadClass?: ErrorClass;
}
