/**
 * Gemini's 429 details for the provider emulator: the quota that ran out (a google.rpc
 * QuotaFailure) and when to try again (a RetryInfo, the only retry hint Gemini sends).
 */
import type { LimitExceeded } from '../wireFormat';

export const QUOTA_MESSAGE =
	'You exceeded your current quota, please check your plan and billing details.';

export const FREE_TIER_REQUESTS =
	'generativelanguage.googleapis.com/generate_content_free_tier_requests';

/** A quota that ran out, and the RetryInfo Gemini sends with it. */
export function quotaDetails(
	quotaMetric: string,
	quotaId: string,
	quotaValue: string,
	retryDelay: string,
	model: string,
) {
	return [
		{
			'@type': 'type.googleapis.com/google.rpc.QuotaFailure',
			violations: [
				{ quotaMetric, quotaId, quotaDimensions: { model, location: 'global' }, quotaValue },
			],
		},
		{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay },
	];
}

/** The paid tier's per-minute quotas a call can run into: requests, or input tokens. */
const LIMIT_QUOTAS = {
	requests: {
		metric: 'generativelanguage.googleapis.com/generate_content_requests',
		id: 'GenerateRequestsPerMinutePerProjectPerModel',
	},
	tokens: {
		metric: 'generativelanguage.googleapis.com/generate_content_input_token_count',
		id: 'GenerateContentInputTokensPerModelPerMinute',
	},
};

/** The details of a 429 the emulator's rate limits sent, the retry delay a Duration ("0.12s"). */
export function limitDetails(limit: LimitExceeded, model: string) {
	const quota = LIMIT_QUOTAS[limit.kind];
	const retryDelay = `${Number((limit.retryAfterMs / 1000).toFixed(3))}s`;
	return quotaDetails(quota.metric, quota.id, String(limit.limit), retryDelay, model);
}
