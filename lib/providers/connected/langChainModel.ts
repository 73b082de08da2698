/**
 * The parts of a LangChain chat model and its messages that a connected tier uses, typed by
 * shape: the model comes from n8n's own copy of LangChain, which this package does not import.
 */

export interface LangChainToolCall {
	id?: string;
	name: string;
	args?: Record<string, unknown>;
}

export interface LangChainMessage {
	content: unknown;
	/** The text of the content, in recent LangChain versions. */
	text?: unknown;
	tool_calls?: LangChainToolCall[];
	usage_metadata?: { input_tokens?: number; output_tokens?: number };
	response_metadata?: Record<string, unknown>;
	id?: string;
	/** A streamed chunk joined with the next one (AIMessageChunk). */
	concat?(chunk: LangChainMessage): LangChainMessage;
}

export interface LangChainCallOptions {
	signal?: AbortSignal;
	timeout?: number;
}

export interface LangChainRunnable {
	invoke(input: unknown[], options?: LangChainCallOptions): Promise<LangChainMessage>;
	stream?(
		input: unknown[],
		options?: LangChainCallOptions,
	): Promise<AsyncIterable<LangChainMessage>>;
}

export interface LangChainChatModel extends LangChainRunnable {
	bindTools?(tools: unknown[]): LangChainRunnable;
	/** LangChain's retrying caller: its tries are switched off, the chain's policy decides. */
	caller?: { maxRetries?: number };
	maxRetries?: number;
	model?: unknown;
	modelName?: unknown;
	_llmType?(): string;
	getLsParams?(options: object): { ls_model_name?: unknown };
}

export function isLangChainChatModel(value: unknown): value is LangChainChatModel {
	return (
		typeof value === 'object' &&
		value !== null &&
		typeof (value as { invoke?: unknown }).invoke === 'function'
	);
}

/** The model a connected chat model is set to call, as it names it. */
export function modelIdOf(model: LangChainChatModel): string {
	for (const candidate of [model.model, model.modelName]) {
		if (typeof candidate === 'string' && candidate) return candidate.replace(/^models\//, '');
	}
	try {
		const name = model.getLsParams?.({}).ls_model_name;
		if (typeof name === 'string' && name) return name;
	} catch {
		// Some models need call options to say; the node's name is shown instead.
	}
	return '';
}

/**
 * Retries inside the model off: LangChain's caller would otherwise try up to 6 times with its
 * own backoff, under the chain's attempts, timeouts and deadline. The SDK clients LangChain
 * makes already have theirs off. Where each model keeps them: its caller (OpenAI's also on
 * its Completions and Responses parts), `maxRetries` (Mistral makes a caller from it per
 * call), and the fields `bindTools` builds a new model from (OpenAI).
 */
export function switchOffRetries(model: LangChainChatModel): void {
	const parts = model as unknown as Record<string, unknown>;
	for (const owner of [parts, parts.completions, parts.responses]) {
		const caller = (owner as { caller?: unknown } | undefined)?.caller;
		if (caller && typeof caller === 'object') (caller as { maxRetries?: number }).maxRetries = 0;
	}
	model.maxRetries = 0;
	const fields = parts.fields;
	if (fields && typeof fields === 'object') (fields as { maxRetries?: number }).maxRetries = 0;
}
