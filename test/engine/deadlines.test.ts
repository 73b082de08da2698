/**
 * Time: a hanging provider never makes a task overrun its deadline, and the server's retry
 * hints win over the backoff formula unless they do not fit the deadline.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FailoverChain } from '../../lib/engine/failoverChain';
import { HALF, MODELS, WIRE_PROVIDERS, tier, useEmulator } from '../helpers/emulator';

const ctx = useEmulator();

/** How far past its deadline a task may end: timer and teardown jitter only. */
const MARGIN_MS = 250;

describe('deadlines', () => {
	for (const provider of WIRE_PROVIDERS) {
		it(`${provider}: a hanging provider ends the task at its deadline, needing a human`, async () => {
			const { emulator } = ctx;
			emulator.loadScenario({ rules: [{ provider, fault: 'hang' }] });
			const chain = new FailoverChain({
				tiers: [tier(emulator, provider, { timeoutMs: 30_000, attempts: 5 })],
				deadlineMs: 800,
			});
			const started = performance.now();
			const result = await chain.run({ prompt: 'Classify this email.' });
			const elapsed = performance.now() - started;
			assert.equal(result.outcome, 'needs_human');
			assert.equal(result.reason, 'deadline_exceeded');
			assert.match(result.reasonText, /deadline of 0\.8 s/);
			assert.ok(elapsed >= 790, `ended early: ${elapsed} ms`);
			assert.ok(elapsed < 800 + MARGIN_MS, `overran the deadline: ${elapsed} ms`);
			assert.equal(result.attempts.length, 1);
			assert.equal(result.attempts[0].errorClass, 'timeout');
			assert.match(result.attempts[0].message ?? '', /deadline/);
		});
	}

	it('per-attempt timeouts retry, then fail over, all inside the deadline', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ provider: 'anthropic', fault: 'hang' }] });
		emulator.resetCounts();
		const chain = new FailoverChain(
			{
				tiers: [
					tier(emulator, 'anthropic', { timeoutMs: 200, attempts: 2 }),
					tier(emulator, 'openai'),
				],
				deadlineMs: 3_000,
				backoff: { initialDelayMs: 10 },
			},
			{ random: HALF },
		);
		const started = performance.now();
		const result = await chain.run({ prompt: 'Hello' });
		const elapsed = performance.now() - started;
		assert.equal(result.outcome, 'answered');
		assert.equal(result.tier, 2);
		assert.equal(emulator.count('anthropic'), 2);
		assert.ok(elapsed < 1_000, `took ${elapsed} ms`);
		assert.ok(result.tiers[0].latencyMs >= 400, 'tier 1 time includes both timed-out tries');
	});

	it('a task cancelled from outside stops at once', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ provider: 'openai', fault: 'hang' }] });
		const chain = new FailoverChain({
			tiers: [tier(emulator, 'openai', { timeoutMs: 30_000 })],
			deadlineMs: 30_000,
		});
		const controller = new AbortController();
		setTimeout(() => controller.abort(), 200);
		const started = performance.now();
		const result = await chain.run({ prompt: 'Hello' }, { signal: controller.signal });
		assert.ok(performance.now() - started < 200 + MARGIN_MS);
		assert.equal(result.outcome, 'needs_human');
		assert.match(result.reasonText, /cancelled/);
	});
});

describe('retry hints', () => {
	it('a 429 with retry-after: 2 waits about 2 s, not the backoff formula', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({
			rules: [{ provider: 'anthropic', fault: 'rate_limited', retryAfterS: 2, times: 1 }],
		});
		emulator.resetCounts();
		// The formula alone would wait 0..10 ms here.
		const chain = new FailoverChain({
			tiers: [tier(emulator, 'anthropic')],
			backoff: { initialDelayMs: 10, maxDelayMs: 10 },
			deadlineMs: 10_000,
		});
		const started = performance.now();
		const result = await chain.run({ prompt: 'Hello' });
		const elapsed = performance.now() - started;
		assert.equal(result.outcome, 'answered');
		assert.equal(result.tier, 1);
		assert.equal(emulator.count('anthropic', MODELS.anthropic), 2);
		const [limited, answered] = result.attempts;
		assert.deepEqual(limited.retryHint, { source: 'retry-after', ms: 2000, used: true });
		assert.equal(limited.waitedMs, 2000);
		assert.equal(answered.status, 'ok');
		assert.ok(elapsed >= 1_950 && elapsed < 2_600, `waited ${elapsed} ms in all`);
	});

	it('a hint longer than the remaining deadline fails over at once', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({
			rules: [{ provider: 'openai', fault: 'rate_limited', retryAfterS: 30 }],
		});
		emulator.resetCounts();
		const chain = new FailoverChain({
			tiers: [tier(emulator, 'openai'), tier(emulator, 'gemini')],
			deadlineMs: 5_000,
		});
		const started = performance.now();
		const result = await chain.run({ prompt: 'Hello' });
		const elapsed = performance.now() - started;
		assert.equal(result.outcome, 'answered');
		assert.equal(result.provider, 'gemini');
		assert.equal(emulator.count('openai'), 1, 'no second try on the rate-limited tier');
		assert.deepEqual(result.attempts[0].retryHint, {
			source: 'retry-after-ms',
			ms: 30_000,
			used: false,
		});
		assert.equal(result.attempts[0].decision, 'next_tier');
		assert.ok(elapsed < 500, `failed over after ${elapsed} ms`);
	});

	it("Gemini's RetryInfo.retryDelay is honoured (the SDK does not read it)", async () => {
		const { emulator } = ctx;
		emulator.loadScenario({
			rules: [{ provider: 'gemini', fault: 'rate_limited', retryAfterS: 0.3, times: 1 }],
		});
		const chain = new FailoverChain(
			{ tiers: [tier(emulator, 'gemini')], backoff: { initialDelayMs: 5_000, maxDelayMs: 5_000 } },
			{ random: () => 1 },
		);
		const started = performance.now();
		const result = await chain.run({ prompt: 'Hello' });
		assert.equal(result.outcome, 'answered');
		assert.deepEqual(result.attempts[0].retryHint, {
			source: 'gemini-retry-info',
			ms: 300,
			used: true,
		});
		assert.ok(performance.now() - started < 1_500, 'the hint (300 ms), not the formula (5 s)');
	});

	it('a hint above the longest honoured wait fails over instead of stalling', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({
			rules: [{ provider: 'anthropic', fault: 'overloaded', retryAfterS: 90 }],
		});
		emulator.resetCounts();
		const chain = new FailoverChain({
			tiers: [tier(emulator, 'anthropic'), tier(emulator, 'ollama')],
			deadlineMs: 600_000,
		});
		const result = await chain.run({ prompt: 'Hello' });
		assert.equal(result.provider, 'ollama');
		assert.equal(emulator.count('anthropic'), 1);
		assert.equal(result.attempts[0].retryHint?.used, false);
	});
});
