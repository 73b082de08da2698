/** What the rate pacer (pacingRules.ts) is asked, told and shows, for every store. */

/** One call asking to go. */
export interface PaceRequest {
	id: string;
	/** Its estimated tokens: the prompt's. */
	tokens: number;
	/** How long its slot is held at most: its try's timeout. */
	leaseMs: number;
}

/** A limit as an answer's headers said it: per minute, what was left, when full again. */
export interface PaceLimit {
	limit?: number;
	remaining: number;
	resetMs: number;
}

/** How a call ended, for the pacer. */
export interface PaceOutcome {
	id: string;
	/** 'limited': the provider answered 429 (rate limit, not quota). */
	result: 'answered' | 'limited' | 'other';
	requests?: PaceLimit;
	tokens?: PaceLimit;
	/** The 429's retry hint, in ms. */
	retryAfterMs?: number;
}

/** What a person reads about a circuit's pacing. */
export interface PaceSnapshot {
	window: number;
	inFlight: number;
	holdUntil: number;
	requestsLeft?: number;
	tokensLeft?: number;
}
