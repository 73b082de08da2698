/**
 * Pacing in the engine, with the real OpenAI and Anthropic SDK adapters against the emulator
 * and the pace in a real embedded store: a wait for room is patient but bounded, so a tier
 * whose provider asks for more than Max Retry Wait, or whose calls in flight stay full, is
 * passed over for the next tier instead of holding items to their deadline.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { FailoverChain } from '../../lib/engine/failoverChain';
import { RatePacer } from '../../lib/engine/limits/ratePacer';
import { RATE_LIMIT_HELD } from '../../lib/engine/reasonText';
import type { TaskResult } from '../../lib/engine/types';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import { KEYS, tier, useEmulator } from '../support/emulator';

const ctx = useEmulator();

function pacedChain(options: { maxHintMs: number; deadlineMs: number }) {
	const store = new SqliteStateStore(join(mkdtempSync(join(tmpdir(), 'pacing-')), 'state.sqlite'));
	const chain = new FailoverChain(
		{
			tiers: [
				tier(ctx.emulator, 'openai', { attempts: 2 }),
				tier(ctx.emulator, 'anthropic', { attempts: 1 }),
			],
			backoff: { maxHintMs: options.maxHintMs },
			deadlineMs: options.deadlineMs,
		},
		{ pacer: new RatePacer(store) },
	);
	return { chain, store };
}

const byTier = (results: TaskResult[], n: number) =>
	results.filter((r) => r.outcome === 'answered' && r.tier === n).length;

describe('pacing in the engine', () => {
	it('a 429 asking for longer than Max Retry Wait passes the tier over for the items after it too', async () => {
		ctx.emulator.loadScenario({
			apiKeys: KEYS,
			rules: [{ provider: 'openai', fault: 'rate_limited', retryAfterS: 5, times: 1 }],
		});
		ctx.emulator.resetCounts();
		const { chain, store } = pacedChain({ maxHintMs: 2_000, deadlineMs: 60_000 });
		const first = await chain.run({ prompt: 'first' });
		assert.equal(first.tier, 2, 'the 5 s hint is over Max Retry Wait: tier 2 answers');
		const later = await Promise.all([1, 2, 3, 4].map((i) => chain.run({ prompt: `later ${i}` })));
		assert.equal(byTier(later, 2), 4, 'held items go to tier 2, not wait 5 s on tier 1');
		for (const result of later)
			assert.equal(result.attempts[0].message, RATE_LIMIT_HELD, JSON.stringify(result.attempts));
		assert.equal(ctx.emulator.count('openai'), 1, 'tier 1 was called once, by the first item');
		await store.close();
	});

	it('at real pace (1.5 s answers), items waiting for a slot after a 429 go to tier 2 within their deadline', async () => {
		ctx.emulator.loadScenario({
			apiKeys: KEYS,
			latencyMs: 1_500,
			rules: [{ provider: 'openai', fault: 'rate_limited', times: 1, latencyMs: 0 }],
		});
		ctx.emulator.resetCounts();
		const { chain, store } = pacedChain({ maxHintMs: 60_000, deadlineMs: 5_000 });
		// The 429 halves the window to one call in flight, and holds for its hint (1.574 s).
		await chain.run({ prompt: 'opens the window' });
		const results = await Promise.all(
			Array.from({ length: 12 }, (_, i) => chain.run({ prompt: `item ${i}` })),
		);
		assert.deepEqual(
			results.map((r) => r.outcome),
			Array(12).fill('answered'),
		);
		assert.ok(byTier(results, 2) > 0, 'some items passed tier 1 over while it was full');
		await store.close();
	});
});
