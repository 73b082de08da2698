/**
 * Time, on a virtual clock: a hanging provider never makes a task overrun its deadline,
 * backoff waits are exactly the jittered values, and the server's retry hints win over the
 * formula unless they do not fit. The calls go over real HTTP to the emulator and take no
 * virtual time, so every figure below is exact.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FailoverChain } from '../../lib/engine/failoverChain';
import { HALF, MODELS, WIRE_PROVIDERS, tier, useEmulator } from '../support/emulator';
import { VirtualClock, hangingOn } from '../support/virtualClock';

const ctx = useEmulator();

/**
 * Limits far above any real delay: the SDKs' own timeouts (the engine's limit plus a second,
 * in real time) then never act before the engine's virtual limit cuts a hanging call off.
 */
const DEADLINE_MS = 600_000;
const LIMIT_MS = 60_000;

/** A chain's clock and the virtual instant at which each of its attempts ended. */
function timed() {
	const clock = new VirtualClock();
	const ended: number[] = [];
	return { clock, ended, events: { onAttempt: () => ended.push(clock.now()) } };
}

/** `random` answering these values in turn. */
function sequence(...values: number[]): () => number {
	return () => {
		const value = values.shift();
		if (value === undefined) throw new Error('random called more often than expected');
		return value;
	};
}

describe('deadlines', () => {
	for (const provider of WIRE_PROVIDERS) {
		it(`${provider}: a hanging provider ends the task exactly at its deadline, needing a human`, async () => {
			const { emulator } = ctx;
			emulator.loadScenario({ rules: [{ provider, fault: 'hang' }] });
			emulator.resetCounts();
			const clock = new VirtualClock();
			const chain = new FailoverChain(
				{
					tiers: [tier(emulator, provider, { timeoutMs: 2 * DEADLINE_MS, attempts: 5 })],
					deadlineMs: DEADLINE_MS,
				},
				{ clock },
			);
			// Ends at all only because the engine's abort reaches the SDK: the SDK's own
			// timeout is ten real minutes away.
			const result = await clock.run(
				chain.run({ prompt: 'Classify this email.' }),
				hangingOn(emulator, provider, clock),
			);
			assert.equal(result.outcome, 'needs_human');
			assert.equal(result.reason, 'deadline_exceeded');
			assert.match(result.reasonText, /deadline of 600 s/);
			assert.equal(
				result.latencyMs,
				DEADLINE_MS,
				'ended at the deadline, neither before nor after',
			);
			assert.equal(emulator.count(provider), 1, 'one call, never retried past the deadline');
			assert.equal(result.attempts.length, 1);
			assert.equal(result.attempts[0].errorClass, 'timeout');
			assert.equal(
				result.attempts[0].latencyMs,
				DEADLINE_MS,
				'the call was cut off at the deadline',
			);
			assert.match(result.attempts[0].message ?? '', /deadline/);
		});
	}

	it('per-attempt timeouts retry, then fail over, each cut off at exactly its limit', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ provider: 'anthropic', fault: 'hang' }] });
		emulator.resetCounts();
		const clock = new VirtualClock();
		const chain = new FailoverChain(
			{
				tiers: [
					tier(emulator, 'anthropic', { timeoutMs: LIMIT_MS, attempts: 2 }),
					tier(emulator, 'openai'),
				],
				deadlineMs: DEADLINE_MS,
				backoff: { initialDelayMs: 10 },
			},
			{ random: HALF, clock },
		);
		const result = await clock.run(
			chain.run({ prompt: 'Hello' }),
			hangingOn(emulator, 'anthropic', clock),
		);
		assert.equal(result.outcome, 'answered');
		assert.equal(result.tier, 2);
		assert.equal(emulator.count('anthropic'), 2);
		assert.deepEqual(
			result.attempts.map((a) => [a.tier, a.errorClass, a.latencyMs, a.waitedMs, a.decision]),
			[
				[1, 'timeout', LIMIT_MS, 5, 'retry'],
				[1, 'timeout', LIMIT_MS, 0, 'next_tier'],
				[2, undefined, 0, 0, 'stop'],
			],
		);
		assert.deepEqual(
			result.tiers.map((t) => [t.latencyMs, t.waitedMs]),
			[
				[2 * LIMIT_MS + 5, 5],
				[0, 0],
			],
			'tier 1 time is both timed-out tries and the wait between them',
		);
		assert.equal(result.latencyMs, 2 * LIMIT_MS + 5);
	});

	it('a task cancelled from outside stops at the instant of the cancellation', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ provider: 'openai', fault: 'hang' }] });
		emulator.resetCounts();
		const clock = new VirtualClock();
		const chain = new FailoverChain(
			{ tiers: [tier(emulator, 'openai', { timeoutMs: LIMIT_MS })], deadlineMs: DEADLINE_MS },
			{ random: HALF, clock },
		);
		const controller = new AbortController();
		clock.after(200, () => controller.abort());
		const result = await clock.run(
			chain.run({ prompt: 'Hello' }, { signal: controller.signal }),
			hangingOn(emulator, 'openai', clock),
		);
		assert.equal(result.latencyMs, 200);
		assert.equal(result.outcome, 'needs_human');
		assert.match(result.reasonText, /cancelled/);
		assert.equal(emulator.count('openai'), 1, 'no call after the cancellation');
	});
});

describe('backoff', () => {
	it('waits exactly the full-jitter values between tries, with random fixed', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ provider: 'anthropic', fault: 'overloaded', times: 2 }] });
		emulator.resetCounts();
		const { clock, ended, events } = timed();
		const chain = new FailoverChain(
			{
				tiers: [tier(emulator, 'anthropic')],
				backoff: { initialDelayMs: 100, maxDelayMs: 150 },
				deadlineMs: DEADLINE_MS,
			},
			// 0.2 of 100 ms after the first failure, 0.6 of min(150, 200) ms after the second.
			{ random: sequence(0.2, 0.6), clock, events },
		);
		const result = await clock.run(chain.run({ prompt: 'Hello' }));
		assert.equal(result.outcome, 'answered');
		assert.deepEqual(
			result.attempts.map((a) => a.waitedMs),
			[20, 90, 0],
		);
		assert.deepEqual(ended, [0, 20, 110], 'each try went out when its wait ended');
		assert.equal(result.tiers[0].waitedMs, 110);
		assert.equal(result.latencyMs, 110);
	});

	it('a wait that would end past the deadline is not started: the task fails over at once', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ provider: 'anthropic', fault: 'overloaded' }] });
		emulator.resetCounts();
		const { clock, ended, events } = timed();
		const chain = new FailoverChain(
			{
				tiers: [tier(emulator, 'anthropic'), tier(emulator, 'openai')],
				backoff: { initialDelayMs: 2_000, maxDelayMs: 2_000 },
				deadlineMs: 1_000,
			},
			{ random: () => 1, clock, events },
		);
		const result = await clock.run(chain.run({ prompt: 'Hello' }));
		assert.equal(result.provider, 'openai');
		assert.equal(emulator.count('anthropic'), 1);
		assert.equal(result.attempts[0].decision, 'next_tier');
		assert.equal(result.attempts[0].waitedMs, 0);
		assert.deepEqual(ended, [0, 0]);
	});
});

describe('retry hints', () => {
	it('a 429 with retry-after: 2 waits exactly 2 s, not the backoff formula', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({
			rules: [{ provider: 'anthropic', fault: 'rate_limited', retryAfterS: 2, times: 1 }],
		});
		emulator.resetCounts();
		const { clock, ended, events } = timed();
		// The formula alone would wait 0..10 ms here.
		const chain = new FailoverChain(
			{
				tiers: [tier(emulator, 'anthropic')],
				backoff: { initialDelayMs: 10, maxDelayMs: 10 },
				deadlineMs: 10_000,
			},
			{ clock, events },
		);
		const result = await clock.run(chain.run({ prompt: 'Hello' }));
		assert.equal(result.outcome, 'answered');
		assert.equal(result.tier, 1);
		assert.equal(emulator.count('anthropic', MODELS.anthropic), 2);
		const [limited, answered] = result.attempts;
		assert.deepEqual(limited.retryHint, { source: 'retry-after', ms: 2000, used: true });
		assert.equal(limited.waitedMs, 2000);
		assert.equal(answered.status, 'ok');
		assert.deepEqual(ended, [0, 2_000], 'the retry went out when the server said');
		assert.equal(result.latencyMs, 2_000);
	});

	it('a hint longer than the remaining deadline fails over at once', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({
			rules: [{ provider: 'openai', fault: 'rate_limited', retryAfterS: 30 }],
		});
		emulator.resetCounts();
		const { clock, ended, events } = timed();
		const chain = new FailoverChain(
			{ tiers: [tier(emulator, 'openai'), tier(emulator, 'gemini')], deadlineMs: 5_000 },
			{ clock, events },
		);
		const result = await clock.run(chain.run({ prompt: 'Hello' }));
		assert.equal(result.outcome, 'answered');
		assert.equal(result.provider, 'gemini');
		assert.equal(emulator.count('openai'), 1, 'no second try on the rate-limited tier');
		assert.deepEqual(result.attempts[0].retryHint, {
			source: 'retry-after-ms',
			ms: 30_000,
			used: false,
		});
		assert.equal(result.attempts[0].decision, 'next_tier');
		assert.equal(result.attempts[0].waitedMs, 0);
		assert.deepEqual(ended, [0, 0], 'failed over without waiting');
	});

	it("Gemini's RetryInfo.retryDelay is honoured (the SDK does not read it)", async () => {
		const { emulator } = ctx;
		emulator.loadScenario({
			rules: [{ provider: 'gemini', fault: 'rate_limited', retryAfterS: 0.3, times: 1 }],
		});
		const { clock, ended, events } = timed();
		const chain = new FailoverChain(
			{ tiers: [tier(emulator, 'gemini')], backoff: { initialDelayMs: 5_000, maxDelayMs: 5_000 } },
			{ random: () => 1, clock, events },
		);
		const result = await clock.run(chain.run({ prompt: 'Hello' }));
		assert.equal(result.outcome, 'answered');
		assert.deepEqual(result.attempts[0].retryHint, {
			source: 'gemini-retry-info',
			ms: 300,
			used: true,
		});
		assert.deepEqual(ended, [0, 300], 'the hint (300 ms), not the formula (5 s)');
	});

	it('a hint above the longest honoured wait fails over instead of stalling', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({
			rules: [{ provider: 'anthropic', fault: 'overloaded', retryAfterS: 90 }],
		});
		emulator.resetCounts();
		const { clock, ended, events } = timed();
		const chain = new FailoverChain(
			{ tiers: [tier(emulator, 'anthropic'), tier(emulator, 'ollama')], deadlineMs: DEADLINE_MS },
			{ clock, events },
		);
		const result = await clock.run(chain.run({ prompt: 'Hello' }));
		assert.equal(result.provider, 'ollama');
		assert.equal(emulator.count('anthropic'), 1);
		assert.equal(result.attempts[0].retryHint?.used, false);
		assert.deepEqual(ended, [0, 0], 'failed over without waiting');
	});
});
