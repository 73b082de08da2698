/** The decision rules alone, without a network. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { DEFAULT_BACKOFF, fullJitterDelay } from '../../lib/engine/backoff';
import { RETRY_SAME_MODEL, nextStep } from '../../lib/engine/nextStep';
import {
	hintFromGeminiDetails,
	hintFromHeaders,
	hintFromMessage,
} from '../../lib/providers/retryHints';
import type { ErrorClass } from '../../lib/engine/types';
import { ERROR_CLASSES } from '../../lib/engine/types';

const context = {
	attempt: 1,
	maxAttempts: 3,
	remainingMs: 60_000,
	backoff: DEFAULT_BACKOFF,
	random: () => 1,
};

describe('nextStep', () => {
	it('never retries quota, auth, bad requests, unknown models or oversized prompts on the same model', () => {
		const never: ErrorClass[] = [
			'quota_exhausted',
			'auth',
			'bad_request',
			'model_not_found',
			'context_too_long',
			'refused',
			'truncated',
		];
		for (const errorClass of ERROR_CLASSES) {
			const step = nextStep({ errorClass, message: '' }, context);
			assert.equal(step.action, never.includes(errorClass) ? 'next_tier' : 'retry', errorClass);
			assert.equal(RETRY_SAME_MODEL[errorClass], !never.includes(errorClass));
		}
	});

	it('a failure that says to leave the tier moves on, though its class is retried', () => {
		const stuck = { errorClass: 'timeout' as const, message: 'no first token in 30 s' };
		assert.equal(nextStep(stuck, context).action, 'retry');
		assert.deepEqual(nextStep({ ...stuck, leaveTier: 'no first token' }, context), {
			action: 'next_tier',
			why: 'no first token',
		});
	});

	it('moves on when the attempts are used up', () => {
		assert.equal(
			nextStep({ errorClass: 'overloaded', message: '' }, { ...context, attempt: 3 }).action,
			'next_tier',
		);
	});

	it('backs off exponentially with full jitter, capped', () => {
		const config = { initialDelayMs: 100, maxDelayMs: 1_000, maxHintMs: 60_000 };
		assert.deepEqual(
			[1, 2, 3, 4, 5, 6].map((n) => fullJitterDelay(n, config, () => 1)),
			[100, 200, 400, 800, 1000, 1000],
		);
		assert.equal(
			fullJitterDelay(3, config, () => 0),
			0,
		);
		const samples = Array.from({ length: 2000 }, () => fullJitterDelay(3, config));
		assert.ok(
			Math.min(...samples) < 40 && Math.max(...samples) > 360,
			'spread over the whole range',
		);
	});

	it('the server hint wins over the formula, within the deadline and the cap', () => {
		const failure = {
			errorClass: 'rate_limited' as const,
			message: '',
			retryHint: { source: 'retry-after' as const, ms: 2_000 },
		};
		assert.deepEqual(nextStep(failure, context), {
			action: 'retry',
			waitMs: 2_000,
			hintUsed: true,
		});
		assert.equal(nextStep(failure, { ...context, remainingMs: 1_500 }).action, 'next_tier');
		assert.equal(
			nextStep(failure, { ...context, backoff: { ...DEFAULT_BACKOFF, maxHintMs: 1_000 } }).action,
			'next_tier',
		);
	});

	it('does not start a wait that would end past the deadline', () => {
		const step = nextStep(
			{ errorClass: 'server_error', message: '' },
			{ ...context, remainingMs: 100, random: () => 1 },
		);
		assert.equal(step.action, 'next_tier');
	});
});

describe('retry hints', () => {
	it('reads retry-after-ms before retry-after, and HTTP dates', () => {
		assert.deepEqual(
			hintFromHeaders(new Headers({ 'retry-after': '3', 'retry-after-ms': '2500' })),
			{ source: 'retry-after-ms', ms: 2500 },
		);
		assert.deepEqual(hintFromHeaders(new Headers({ 'retry-after': '3' })), {
			source: 'retry-after',
			ms: 3000,
		});
		const now = Date.parse('2026-11-27T12:00:00Z');
		assert.deepEqual(hintFromHeaders({ 'retry-after': 'Fri, 27 Nov 2026 12:00:05 GMT' }, now), {
			source: 'retry-after',
			ms: 5000,
		});
		assert.equal(hintFromHeaders(new Headers({})), undefined);
		assert.equal(hintFromHeaders(new Headers({ 'retry-after': 'soon' })), undefined);
	});

	it("reads Gemini's RetryInfo and OpenAI's message", () => {
		assert.deepEqual(
			hintFromGeminiDetails([
				{ '@type': 'type.googleapis.com/google.rpc.QuotaFailure' },
				{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '22s' },
			]),
			{ source: 'gemini-retry-info', ms: 22_000 },
		);
		assert.deepEqual(hintFromMessage('Limit 200000. Please try again in 1.574s. Visit ...'), {
			source: 'openai-message',
			ms: 1574,
		});
		assert.deepEqual(hintFromMessage('Please try again in 20ms.'), {
			source: 'openai-message',
			ms: 20,
		});
		assert.deepEqual(hintFromMessage('Please try again in 1m30s.'), {
			source: 'openai-message',
			ms: 90_000,
		});
		assert.equal(hintFromMessage('Please try again later.'), undefined);
	});
});
