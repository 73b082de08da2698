/** The circuit breaker inside the engine, shared through the embedded store, proven by the emulator's counters. */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { CircuitBreaker } from '../../lib/engine/circuitBreaker';
import { FailoverChain } from '../../lib/engine/failoverChain';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import { HALF, MODELS, tier, useEmulator } from '../helpers/emulator';

const ctx = useEmulator();
const POLICY = {
	failureThreshold: 3,
	openMs: 400,
	longOpenMs: 60_000,
	probeLeaseMs: 2_000,
	failureRate: 0,
	rateWindowMs: 60_000,
	rateMinCalls: 10,
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function chains(file: string) {
	const { emulator } = ctx;
	// Two chains over one store file: two executions (or two workers sharing the file).
	const make = () =>
		new FailoverChain(
			{
				tiers: [tier(emulator, 'anthropic'), tier(emulator, 'openai')],
				backoff: { initialDelayMs: 10 },
			},
			{ breaker: new CircuitBreaker(new SqliteStateStore(file), POLICY), random: HALF },
		);
	return [make(), make()] as const;
}

describe('circuit breaker', () => {
	it('opens after the primary fails, then other executions skip it without calling it', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({
			rules: [
				{ provider: 'anthropic', fault: 'overloaded' },
				{ provider: 'openai', latencyMs: 50 },
			],
		});
		emulator.resetCounts();
		const [first, second] = chains(join(mkdtempSync(join(tmpdir(), 'breaker-')), 'state.sqlite'));
		const opening = await first.run({ prompt: 'Summarise.' });
		assert.equal(opening.tier, 2);
		assert.equal(emulator.count('anthropic'), 3, 'three failures open the circuit');

		const started = performance.now();
		const skipping = await second.run({ prompt: 'Summarise.' });
		const elapsed = performance.now() - started;
		assert.equal(skipping.tier, 2);
		assert.equal(emulator.count('anthropic'), 3, 'the open circuit was not called');
		assert.equal(skipping.attempts[0].status, 'skipped');
		assert.equal(skipping.attempts[0].message, 'skipped: circuit open');
		assert.ok(
			elapsed < 50 * 1.2 + 40,
			`answered in ${Math.round(elapsed)} ms, close to the secondary's own 50 ms`,
		);
	});

	it('lets one probe through after the cool-down and closes when it succeeds', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ provider: 'anthropic', fault: 'overloaded', times: 3 }] });
		emulator.resetCounts();
		const [first, second] = chains(join(mkdtempSync(join(tmpdir(), 'breaker-')), 'state.sqlite'));
		assert.equal((await first.run({ prompt: 'a' })).tier, 2);
		assert.equal((await second.run({ prompt: 'b' })).attempts[0].message, 'skipped: circuit open');
		await sleep(POLICY.openMs + 50);
		const probe = await second.run({ prompt: 'c' });
		assert.equal(probe.tier, 1, 'the probe answered: the primary is back');
		assert.equal(emulator.count('anthropic', MODELS.anthropic), 4);
		assert.equal((await first.run({ prompt: 'd' })).tier, 1, 'closed for everyone');
	});

	it('a failed probe keeps it open; the reason says the circuit was open', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ fault: 'server_error' }] });
		const [first] = chains(join(mkdtempSync(join(tmpdir(), 'breaker-')), 'state.sqlite'));
		await first.run({ prompt: 'a' }); // opens both circuits
		const skipped = await first.run({ prompt: 'b' });
		assert.equal(skipped.outcome, 'needs_human');
		assert.match(
			skipped.reasonText,
			/tier 1 anthropic\/claude-haiku-4-5: skipped, circuit open; tier 2 openai\/gpt-4o-mini: skipped, circuit open/,
		);
		await sleep(POLICY.openMs + 50);
		emulator.resetCounts();
		await first.run({ prompt: 'c' });
		assert.equal(emulator.count('anthropic'), 1, 'one probe, which failed');
		assert.equal((await first.run({ prompt: 'd' })).attempts[0].message, 'skipped: circuit open');
	});

	it('drills never touch the shared breaker', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({});
		const file = join(mkdtempSync(join(tmpdir(), 'breaker-')), 'state.sqlite');
		const store = new SqliteStateStore(file);
		const drilled = new FailoverChain(
			{
				tiers: [tier(emulator, 'anthropic'), tier(emulator, 'openai')],
				drill: 'primary_down',
				backoff: { initialDelayMs: 1 },
			},
			{ breaker: new CircuitBreaker(store, POLICY) },
		);
		for (let i = 0; i < 3; i++) await drilled.run({ prompt: 'x' });
		assert.equal(
			(await store.snapshot(CircuitBreaker.circuitOf('anthropic', MODELS.anthropic))).state,
			'closed',
		);
	});
});
