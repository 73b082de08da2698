/**
 * The vocabulary of the resilience engine. Plain data: everything here can be logged,
 * stored and put on an n8n item as it is.
 */

import type {
	BuiltInProviderName,
	ChatMessage,
	ErrorClass,
	ProviderName,
	RateLimitReading,
	RetryHint,
	TokenUsage,
	ToolCall,
	ToolDefinition,
} from '../providers/types';

// The failure classes and provider names belong to the providers; the engine speaks them.
export { ERROR_CLASSES } from '../providers/types';
export { PROVIDER_NAMES } from '../providers/registry';
export type {
	ErrorClass,
	ProviderName,
	RetryHint,
	RetryHintSource,
	TokenUsage,
	ChatMessage,
	ToolCall,
	ToolDefinition,
} from '../providers/types';

/** One failure, reduced to what the engine decides on. */
export interface ClassifiedFailure {
	errorClass: ErrorClass;
	httpStatus?: number;
	requestId?: string;
	retryHint?: RetryHint;
	/** What the failed answer's headers said about the provider's rate limits. */
	rateLimit?: RateLimitReading;
	/** Short, secret-free description for people. */
	message: string;
	/**
	 * Why this failure leaves the tier at once, whatever its class allows: a model that has
	 * not started answering within its First Token Timeout is abandoned for the next tier.
	 */
	leaveTier?: string;
}

export interface Price {
	/** USD per million input tokens. */
	inputPerMTok: number;
	/** USD per million output tokens. */
	outputPerMTok: number;
}

export interface TierConfig {
	provider: ProviderName;
	model: string;
	/** API key; ignored by providers that need none (Ollama). Never copied into results. */
	apiKey?: string;
	/**
	 * More keys of the same provider (other projects or organisations): with them the tier
	 * is a key pool, each call going to the key with the most headroom, `apiKey` first among
	 * equals. Each key has a circuit of its own. Never copied into results.
	 */
	poolKeys?: string[];
	/** Base URL of the provider's API, e.g. the emulator or a proxy. */
	baseUrl?: string;
	/** Tries on this tier, the first included. Default 3. */
	attempts?: number;
	/** Per-attempt timeout in ms. Default 60 000. */
	timeoutMs?: number;
	/** A streamed try with no first event by then is abandoned (timeout). Default 30 000. */
	firstTokenTimeoutMs?: number;
	/** A longer gap between two events of a streamed try breaks it (timeout). Default 30 000. */
	stallTimeoutMs?: number;
	/** Context window in tokens; lets context_too_long skip to a larger model. */
	contextWindow?: number;
	/** Overrides the price table for this tier. */
	price?: Price;
	/** For provider `connected`: the n8n node whose chat model this tier calls. */
	connected?: ConnectedNode;
}

/** A chat model another n8n node supplies, as a tier names it: plain data, no secret. */
export interface ConnectedNode {
	/** 1-based: the node's Model input. */
	input: number;
	/** The node's name in the workflow. */
	node: string;
	/** Its type, e.g. `@n8n/n8n-nodes-langchain.lmChatOpenAi`. */
	nodeType: string;
	/** The id of the credential it uses, when known: one circuit per key, not per node. */
	credentialId?: string;
	/** The built-in provider whose wire and rules it shares, when its node type says. */
	family?: BuiltInProviderName;
}

export interface BackoffConfig {
	/** First retry waits up to this (full jitter). Default 500 ms. */
	initialDelayMs: number;
	/** No single backoff wait exceeds this. Default 10 000 ms. */
	maxDelayMs: number;
	/** The longest server hint the engine will honour before failing over instead. Default 60 000 ms. */
	maxHintMs: number;
}

export type Criticality = 'standard' | 'high_stakes';

export interface OutputChecks {
	/** A truncated answer (max tokens reached) counts as a failure. Default true. */
	requireComplete?: boolean;
	/** The answer must be JSON (fences are tolerated). */
	json?: boolean;
	/** JSON Schema the parsed answer must satisfy; implies json. */
	jsonSchema?: object;
}

export interface ChainConfig {
	tiers: TierConfig[];
	/** Total time budget for one task across every tier, waits included. Default 120 000 ms. */
	deadlineMs?: number;
	criticality?: Criticality;
	backoff?: Partial<BackoffConfig>;
	output?: OutputChecks;
	maxOutputTokens?: number;
	temperature?: number;
	/** Test runs: tiers fail as if their provider returned this, without being called. */
	drill?: 'off' | 'primary_down' | 'all_down' | 'rate_limited';
}

/**
 * One task: a single prompt (Resilient LLM) or a whole conversation with tools (Resilient
 * Chat Model). With `messages`, `prompt` and `systemPrompt` are not used.
 */
export interface Task {
	prompt?: string;
	systemPrompt?: string;
	messages?: ChatMessage[];
	tools?: ToolDefinition[];
}

export interface AttemptRecord {
	/** 1-based position of the tier in the chain. */
	tier: number;
	/** 1-based try number on this tier. */
	attempt: number;
	/** A tier with a key pool: the 1-based position of the key this try used (never the key). */
	key?: number;
	provider: ProviderName;
	model: string;
	/** A connected tier: the name of the n8n node whose model it called. */
	node?: string;
	status: 'ok' | 'failed' | 'skipped';
	errorClass?: ErrorClass;
	httpStatus?: number;
	requestId?: string;
	latencyMs: number;
	/** Time spent waiting after this attempt before the next one on the same tier. */
	waitedMs: number;
	/** The server's retry hint, and whether the wait followed it. */
	retryHint?: RetryHint & { used: boolean };
	/** What the engine did next: retry, next_tier, stop. */
	decision?: 'retry' | 'next_tier' | 'stop';
	message?: string;
	/** For a tier passed over because its circuit is open: its failures and next probe. */
	detail?: string;
	usage?: TokenUsage;
	costUsd: number;
	/** The call was streamed (the run had a reader for text as it arrives). */
	streamed?: boolean;
	/** A streamed call: ms from the call to its first event, if one came. */
	firstTokenMs?: number;
	/** A streamed call: characters of text it passed to the reader, a broken stream's included. */
	sentChars?: number;
}

export type NeedsHumanReason =
	| 'all_tiers_failed'
	| 'deadline_exceeded'
	| 'degrade_not_allowed'
	| 'no_larger_context'
	| 'over_budget';

export interface TierSummary {
	/** 1-based. */
	tier: number;
	provider: ProviderName;
	model: string;
	/** A connected tier: the name of the n8n node whose model it called. */
	node?: string;
	attempts: number;
	/** A tier with a key pool: the 1-based position of the key its latest try used. */
	key?: number;
	latencyMs: number;
	waitedMs: number;
	/** Time its calls were held for room under the provider's rate limit. */
	pacedMs?: number;
	costUsd: number;
	/** Streamed tries: ms to the first event of the tier's latest try that had one. */
	firstTokenMs?: number;
}

/** A spend budget as it stood when the task ended (its last call settled). */
export interface BudgetState {
	/** The Budget Name, or `workflow <id>` for a workflow's own budget. */
	name: string;
	/** Which period it counts: `day 2026-01-05`, `month 2026-01`, `execution 1234`. */
	period: string;
	limitUsd: number;
	spentUsd: number;
	remainingUsd: number;
}

export interface TaskResult {
	outcome: 'answered' | 'needs_human';
	/** Set when outcome is needs_human. */
	reason?: NeedsHumanReason;
	/** One sentence a person can act on, e.g. in a Slack message. */
	reasonText: string;
	text?: string;
	/** The tool calls the answering model asked for. */
	toolCalls?: ToolCall[];
	/**
	 * Set when the answer continues a stream that broke after it had sent text: the tier
	 * (1-based) whose stream broke last, and the characters of text the answering try continued.
	 * `text` is the whole answer, those characters included.
	 */
	continuedFrom?: { tier: number; chars: number };
	/**
	 * A streamed run: ms from the task's start to the first text the reader got, failovers
	 * before it included.
	 */
	firstTokenMs?: number;
	/** The parsed answer when JSON output was asked for. */
	json?: unknown;
	/** 1-based position of the tier that answered. */
	tier?: number;
	provider?: ProviderName;
	model?: string;
	/** A connected tier answered: the name of its n8n node. */
	node?: string;
	attempts: AttemptRecord[];
	tiers: TierSummary[];
	latencyMs: number;
	usage: TokenUsage;
	costUsd: number;
	priceTableVersion: string;
	/** Set when the result comes from a drill: not production data. */
	drill?: 'primary_down' | 'all_down' | 'rate_limited';
	/**
	 * Set when shared state (the circuit breaker's store) could not be read or written for
	 * this task: why. The answer itself is good.
	 */
	degraded?: string;
	/**
	 * Connected models whose tokens have no price (not in the table, none set on the tier):
	 * `costUsd` counts only the priced calls, and result views show the cost as unknown.
	 */
	unpricedModels?: string[];
	/** The spend budget, when the chain has one and its state could be read. */
	budget?: BudgetState;
}
