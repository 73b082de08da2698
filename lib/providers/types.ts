import type { ProviderName, TokenUsage } from '../engine/types';

export interface CompletionRequest {
	model: string;
	prompt: string;
	systemPrompt?: string;
	maxOutputTokens: number;
	temperature?: number;
	/** Ask the provider for JSON where it has a switch for it. */
	json?: boolean;
}

/** Why the model stopped, in one vocabulary for every provider. */
export type FinishReason = 'stop' | 'length' | 'refusal' | 'content_filter' | 'other';

export interface CompletionResponse {
	text: string;
	finish: FinishReason;
	/** The provider's own words for a refusal or block, if it gave any. */
	refusalText?: string;
	usage: TokenUsage;
	requestId?: string;
	model: string;
}

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
	readonly provider: ProviderName;
	complete(request: CompletionRequest, options: CallOptions): Promise<CompletionResponse>;
}

export interface AdapterSettings {
	apiKey?: string;
	baseUrl?: string;
	timeoutMs: number;
}
