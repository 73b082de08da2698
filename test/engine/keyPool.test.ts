/**
 * Key pools: a tier with several keys of its provider, against the emulator's per-key rate
 * limits and a quota that runs out on one key. Real OpenAI SDK clients, one per key.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { CircuitBreaker } from '../../lib/engine/breaker/circuitBreaker';
import { circuitOf } from '../../lib/engine/breaker/circuitName';
import { ConfigError } from '../../lib/engine/configError';
import { FailoverChain } from '../../lib/engine/failoverChain';
import { RatePacer } from '../../lib/engine/limits/ratePacer';
import type { TaskResult, TierConfig } from '../../lib/engine/types';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import { TEST_BREAKER_POLICY } from '../support/breakerPolicy';
import { FAST_BACKOFF, HALF, KEYS, tier, useEmulator } from '../support/emulator';

const ctx = useEmulator();

const KEY_A = KEYS.openai;
const KEY_B = ['sk-proj', 'TESTKEY', 'second', 'fedcba9876543210'].join('-');

function store(): SqliteStateStore {
	return new SqliteStateStore(join(mkdtempSync(join(tmpdir(), 'pool-')), 'state.sqlite'));
}

function pooled(overrides: Partial<TierConfig> = {}): TierConfig {
	return tier(ctx.emulator, 'openai', { poolKeys: [KEY_B], ...overrides });
}

/** `count` tasks, `concurrency` at a time, in order of their start. */
async function runAll(chain: FailoverChain, count: number, concurrency: number) {
	const results: TaskResult[] = [];
	let next = 0;
	const worker = async () => {
		while (next < count) {
			const n = next++;
			results[n] = await chain.run({ prompt: `Summarise ticket ${n}.` });
		}
	};
	await Promise.all(Array.from({ length: concurrency }, worker));
	return results;
}

/** Calls made with each key position: tries that went out, skips left aside. */
function callsByKey(results: TaskResult[]): Record<number, number> {
	const calls: Record<number, number> = {};
	for (const a of results.flatMap((r) => r.attempts))
		if (a.status !== 'skipped') calls[a.key ?? 0] = (calls[a.key ?? 0] ?? 0) + 1;
	return calls;
}

function answered(results: TaskResult[]): number {
	return results.filter((r) => r.outcome === 'answered').length;
}

/** Tasks the key at this position answered. */
function answeredBy(results: TaskResult[], key: number): number {
	return results.filter((r) => r.outcome === 'answered' && r.attempts.at(-1)?.key === key).length;
}

function pacedMs(results: TaskResult[]): number {
	return results.reduce((sum, r) => sum + (r.tiers[0].pacedMs ?? 0), 0);
}

/**
 * 40 tasks, 16 at a time, each key allowed ten requests a second, five at most at once in a
 * burst: paced by the rate limits, or not (every call goes, a key over its limit answers 429).
 */
async function batch(tiers: TierConfig[], paced: boolean) {
	const { emulator } = ctx;
	emulator.loadScenario({
		latencyMs: 20,
		limits: [{ provider: 'openai', rpm: 600, burstSeconds: 0.5 }],
	});
	emulator.resetCounts();
	const state = store();
	const chain = new FailoverChain(
		{ tiers, backoff: FAST_BACKOFF, deadlineMs: 60_000 },
		{
			// 429s in a row are expected here: they must not open the circuit.
			breaker: new CircuitBreaker(state, { ...TEST_BREAKER_POLICY, failureThreshold: 1000 }),
			...(paced ? { pacer: new RatePacer(state) } : {}),
			random: HALF,
		},
	);
	const results = await runAll(chain, 40, 16);
	return { results, limited: emulator.stats().limited };
}

function assertNoKey(text: string): void {
	for (const key of [KEY_A, KEY_B]) {
		assert.ok(!text.includes(key), 'an API key in the output');
		assert.ok(!text.includes(key.slice(0, 20)), 'part of an API key in the output');
	}
}

describe('key pools', () => {
	it('share a batch between the keys, with fewer 429s than one key under the same per-key limit', async () => {
		// Unpaced: every call goes, and a key over its limit answers 429.
		const one = await batch([tier(ctx.emulator, 'openai', { attempts: 20 })], false);
		const pool = await batch([pooled({ attempts: 20 })], false);
		assert.deepEqual(
			pool.results.map((r) => r.outcome),
			Array(40).fill('answered'),
		);
		const byKey1 = answeredBy(pool.results, 1);
		assert.ok(byKey1 >= 12 && byKey1 <= 28, `key 1 answered ${byKey1} of 40, key 2 the rest`);
		assert.ok(
			pool.limited < one.limited,
			`the pool got ${pool.limited} 429s, one key ${one.limited}`,
		);
		assertNoKey(JSON.stringify(pool.results));
	});

	it('paced, share a batch between the keys with no 429 and half the wait for room', async () => {
		const one = await batch([tier(ctx.emulator, 'openai', { attempts: 6 })], true);
		const pool = await batch([pooled({ attempts: 6 })], true);
		for (const { results, limited } of [one, pool]) {
			assert.equal(answered(results), 40);
			assert.equal(limited, 0, 'the pace holds the calls instead');
		}
		const byKey1 = answeredBy(pool.results, 1);
		assert.ok(byKey1 >= 12 && byKey1 <= 28, `key 1 answered ${byKey1} of 40, key 2 the rest`);
		assert.deepEqual(Object.keys(callsByKey(pool.results)).sort(), ['1', '2']);
		assert.deepEqual(Object.keys(callsByKey(one.results)), ['0'], 'no key position without a pool');
		assert.ok(pacedMs(pool.results) < pacedMs(one.results), 'twice the room, less waiting for it');
	});

	it("one key's quota running out opens only its circuit: the other key answers every later task", async () => {
		const { emulator } = ctx;
		emulator.loadScenario({
			rules: [{ provider: 'openai', key: KEY_A, fault: 'quota_exhausted' }],
		});
		const state = store();
		const breaker = new CircuitBreaker(state, TEST_BREAKER_POLICY);
		const chain = new FailoverChain(
			{ tiers: [pooled()], backoff: FAST_BACKOFF },
			{ breaker, random: HALF },
		);
		const first = await chain.run({ prompt: 'Summarise ticket 0.' });
		assert.equal(first.outcome, 'answered');
		assert.deepEqual(
			first.attempts.map((a) => [a.key, a.status, a.errorClass, a.decision, a.waitedMs]),
			[
				[1, 'failed', 'quota_exhausted', 'retry', 0],
				[2, 'ok', undefined, 'stop', 0],
			],
			'the next try goes to the other key at once',
		);
		assert.equal(first.tiers[0].key, 2);
		assert.equal(first.tiers[0].attempts, 2);

		const later = await runAll(chain, 12, 4);
		for (const result of later) {
			assert.equal(result.outcome, 'answered');
			assert.deepEqual(
				result.attempts.map((a) => [a.key, a.status]),
				[[2, 'ok']],
			);
		}
		const circuitA = circuitOf(tier(emulator, 'openai'));
		const circuitB = circuitOf(tier(emulator, 'openai', { apiKey: KEY_B }));
		assert.notEqual(circuitA, circuitB);
		assert.equal(await breaker.isOpen(circuitA), true, "key 1's circuit is open");
		assert.equal(await breaker.isOpen(circuitB), false, "key 2's circuit is closed");
		assert.deepEqual(await state.openCircuits(), [circuitA]);
		assertNoKey(JSON.stringify([first, ...later]));
	});

	it('a pool whose keys are all limited waits for the hint like one limited key', async () => {
		const { emulator } = ctx;
		// One request a second per key, one at a time.
		const scenario = { limits: [{ provider: 'openai' as const, rpm: 60, burstSeconds: 1 }] };
		const run = async (tiers: TierConfig[], tasks: number) => {
			emulator.loadScenario(scenario);
			const chain = new FailoverChain(
				{ tiers, backoff: FAST_BACKOFF },
				{ breaker: new CircuitBreaker(store(), TEST_BREAKER_POLICY), random: HALF },
			);
			const results: TaskResult[] = [];
			for (let n = 0; n < tasks; n++) results.push(await chain.run({ prompt: `Task ${n}.` }));
			return results;
		};
		const shape = (r: TaskResult) =>
			r.attempts.map((a) => [
				a.key,
				a.status,
				a.errorClass,
				a.decision,
				a.waitedMs > 0,
				a.retryHint?.used,
			]);

		const [, alone] = await run([tier(emulator, 'openai')], 2);
		assert.deepEqual(shape(alone), [
			[undefined, 'failed', 'rate_limited', 'retry', true, true],
			[undefined, 'ok', undefined, 'stop', false, undefined],
		]);

		const [first, second, third] = await run([pooled()], 3);
		assert.deepEqual(shape(first), [[1, 'ok', undefined, 'stop', false, undefined]]);
		assert.deepEqual(shape(second), [[2, 'ok', undefined, 'stop', false, undefined]]);
		assert.deepEqual(
			shape(third),
			[
				[1, 'failed', 'rate_limited', 'retry', false, false],
				[2, 'failed', 'rate_limited', 'retry', true, true],
				[1, 'ok', undefined, 'stop', false, undefined],
			],
			'the other key at once; once both are limited, the wait follows the hint',
		);
		assert.equal(third.outcome, 'answered');
	});

	it("keeps every pool key out of a failure's message", async () => {
		const chain = new FailoverChain(
			{
				tiers: [
					{
						provider: 'openai',
						model: 'gpt-4o-mini',
						apiKey: KEY_A,
						poolKeys: [KEY_B],
						attempts: 2,
					},
				],
			},
			{
				adapterFor: () => ({
					provider: 'openai',
					complete: async () => {
						throw Object.assign(new Error(`key ${KEY_B} was revoked (key ${KEY_A} too)`), {
							status: 401,
						});
					},
				}),
			},
		);
		const result = await chain.run({ prompt: 'Hello' });
		assert.deepEqual(
			result.attempts.map((a) => [a.key, a.errorClass]),
			[
				[1, 'auth'],
				[2, 'auth'],
			],
		);
		assertNoKey(JSON.stringify(result));
		assertNoKey(result.reasonText);
	});

	it('refuses pool keys that are empty, or a pool without a key of its own, naming the field', () => {
		assert.throws(
			() => new FailoverChain({ tiers: [pooled({ poolKeys: [KEY_B, ' '] })] }),
			(e: unknown) => e instanceof ConfigError && e.field === 'tiers[0].poolKeys[1]',
		);
		assert.throws(
			() => new FailoverChain({ tiers: [pooled({ provider: 'ollama', apiKey: undefined })] }),
			(e: unknown) => e instanceof ConfigError && e.field === 'tiers[0].poolKeys',
		);
	});
});
