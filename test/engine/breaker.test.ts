/**
 * The circuit breaker inside the engine, shared through the embedded store, proven by the
 * emulator's counters. On a virtual clock, so the cool-down ends at an exact instant.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { CircuitBreaker } from '../../lib/engine/breaker/circuitBreaker';
import { FailoverChain } from '../../lib/engine/failoverChain';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import { HALF, MODELS, tier, useEmulator } from '../support/emulator';
import { VirtualClock } from '../support/virtualClock';

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
/** The primary's circuit: its provider, model, endpoint and key (the emulator's, once started). */
const primary = () => CircuitBreaker.circuitOf(tier(ctx.emulator, 'anthropic'));
/** With random() = 0.5 and a 10 ms initial delay, three failed tries end 5 + 10 ms in. */
const OPENED_AT = 15;

/** Two chains over one store file (two executions, or two workers), on one clock. */
function setUp() {
	const { emulator } = ctx;
	const file = join(mkdtempSync(join(tmpdir(), 'breaker-')), 'state.sqlite');
	const clock = new VirtualClock();
	const make = () =>
		new FailoverChain(
			{
				tiers: [tier(emulator, 'anthropic'), tier(emulator, 'openai')],
				backoff: { initialDelayMs: 10 },
			},
			{
				breaker: new CircuitBreaker(new SqliteStateStore(file), POLICY, clock),
				random: HALF,
				clock,
			},
		);
	const store = new SqliteStateStore(file);
	const [first, second] = [make(), make()];
	return {
		clock,
		first: (prompt: string) => clock.run(first.run({ prompt })),
		second: (prompt: string) => clock.run(second.run({ prompt })),
		snapshot: (circuit: string) => store.snapshot(circuit, clock.epochMs()),
	};
}

describe('circuit breaker', () => {
	it('opens after the primary fails, then other executions skip it without calling it', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ provider: 'anthropic', fault: 'overloaded' }] });
		emulator.resetCounts();
		const { clock, first, second, snapshot } = setUp();
		const opening = await first('Summarise.');
		assert.equal(opening.tier, 2);
		assert.equal(emulator.count('anthropic'), 3, 'three failures open the circuit');
		assert.equal(opening.latencyMs, OPENED_AT);
		assert.deepEqual(await snapshot(primary()), {
			state: 'open',
			failures: 3,
			openUntil: clock.epochStart + OPENED_AT + POLICY.openMs,
		});

		const skipping = await second('Summarise.');
		assert.equal(skipping.tier, 2);
		assert.equal(emulator.count('anthropic'), 3, 'the open circuit was not called');
		assert.equal(skipping.attempts[0].status, 'skipped');
		assert.equal(skipping.attempts[0].message, 'skipped: circuit open');
		assert.equal(skipping.latencyMs, 0, 'no wait for the open circuit either');
	});

	it('lets one probe through exactly when the cool-down ends and closes when it succeeds', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ provider: 'anthropic', fault: 'overloaded', times: 3 }] });
		emulator.resetCounts();
		const { clock, first, second, snapshot } = setUp();
		assert.equal((await first('a')).tier, 2);
		assert.equal(clock.now(), OPENED_AT);
		clock.advanceTo(OPENED_AT + POLICY.openMs - 1);
		assert.equal(
			(await second('b')).attempts[0].message,
			'skipped: circuit open',
			'still open 1 ms before the cool-down ends',
		);
		assert.equal(emulator.count('anthropic', MODELS.anthropic), 3);
		clock.advanceTo(OPENED_AT + POLICY.openMs);
		const probe = await second('c');
		assert.equal(probe.tier, 1, 'the probe answered: the primary is back');
		assert.equal(emulator.count('anthropic', MODELS.anthropic), 4);
		assert.equal((await snapshot(primary())).state, 'closed');
		assert.equal((await first('d')).tier, 1, 'closed for everyone');
	});

	it('a failed probe keeps it open; the reason says the circuit was open', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ fault: 'server_error' }] });
		emulator.resetCounts();
		const { clock, first, snapshot } = setUp();
		await first('a'); // opens the primary at 15 ms, the secondary at 15 + 5 + 10 ms
		const skipped = await first('b');
		assert.equal(skipped.outcome, 'needs_human');
		assert.match(
			skipped.reasonText,
			/tier 1 anthropic\/claude-haiku-4-5: skipped, circuit open after 3 failures, next probe at \d\d:\d\d:\d\d UTC; tier 2 openai\/gpt-4o-mini: skipped, circuit open after 3 failures, next probe at \d\d:\d\d:\d\d UTC\./,
		);
		clock.advanceTo(OPENED_AT + POLICY.openMs);
		emulator.resetCounts();
		const probed = await first('c');
		assert.equal(emulator.count('anthropic'), 1, 'one probe, which failed');
		assert.equal(emulator.count('openai'), 0, 'the secondary is still cooling down');
		assert.deepEqual(
			probed.attempts.map((a) => [a.tier, a.status, a.errorClass ?? a.message]),
			[
				[1, 'failed', 'server_error'],
				[1, 'skipped', 'skipped: circuit open'],
				[2, 'skipped', 'skipped: circuit open'],
			],
		);
		assert.equal(
			(await snapshot(primary())).openUntil,
			clock.epochStart + OPENED_AT + 2 * POLICY.openMs,
			'reopened for a full cool-down from the failed probe',
		);
		assert.equal((await first('d')).attempts[0].message, 'skipped: circuit open');
	});

	it('a reason names the tries a tier failed and the skip that followed, in words', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ provider: 'anthropic', fault: 'overloaded' }] });
		emulator.resetCounts();
		const file = join(mkdtempSync(join(tmpdir(), 'breaker-')), 'state.sqlite');
		const clock = new VirtualClock();
		const chain = new FailoverChain(
			{ tiers: [tier(emulator, 'anthropic', { attempts: 5 })], backoff: { initialDelayMs: 10 } },
			{
				breaker: new CircuitBreaker(new SqliteStateStore(file), POLICY, clock),
				random: HALF,
				clock,
			},
		);
		const result = await clock.run(chain.run({ prompt: 'x' }));
		assert.equal(emulator.count('anthropic'), 3, 'the third failure opened the circuit');
		const probeAt = new Date(clock.epochStart + OPENED_AT + POLICY.openMs)
			.toISOString()
			.slice(11, 19);
		assert.equal(
			result.reasonText,
			`Every model in the chain failed; tier 1 anthropic/claude-haiku-4-5: overloaded (529) after 3 tries, then skipped, circuit open after 3 failures, next probe at ${probeAt} UTC.`,
		);
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
		assert.equal((await store.snapshot(primary())).state, 'closed');
	});

	it("a circuit's first call goes alone: four tasks at once against a primary out of quota call it once", async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ provider: 'anthropic', fault: 'quota_exhausted' }] });
		emulator.resetCounts();
		const { clock, chain, snapshot } = concurrentSetUp();
		const results = await clock.run(
			Promise.all([1, 2, 3, 4].map((n) => chain.run({ prompt: `task ${n}` }))),
		);
		assert.deepEqual(
			results.map((r) => r.tier),
			[2, 2, 2, 2],
		);
		assert.equal(emulator.count('anthropic'), 1, 'the others waited for the first call');
		assert.equal((await snapshot(primary())).state, 'open');
	});

	it("a healthy circuit's first call lets the others through as soon as it answers", async () => {
		const { emulator } = ctx;
		emulator.loadScenario({});
		emulator.resetCounts();
		const { clock, chain } = concurrentSetUp();
		const results = await clock.run(
			Promise.all([1, 2, 3, 4].map((n) => chain.run({ prompt: `task ${n}` }))),
		);
		assert.deepEqual(
			results.map((r) => r.tier),
			[1, 1, 1, 1],
		);
		assert.equal(emulator.count('anthropic'), 4);
	});

	it('tasks arriving while the probe is in flight wait for it, and answer from the primary', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ provider: 'anthropic', fault: 'overloaded', times: 3 }] });
		emulator.resetCounts();
		const { clock, chain, snapshot } = concurrentSetUp();
		assert.equal((await clock.run(chain.run({ prompt: 'opens it' }))).tier, 2);
		assert.equal((await snapshot(primary())).state, 'open');
		clock.advanceTo(clock.now() + POLICY.openMs);
		emulator.loadScenario({ latencyMs: 50 });
		emulator.resetCounts();
		const results = await clock.run(
			Promise.all([1, 2, 3].map((n) => chain.run({ prompt: `after ${n}` }))),
		);
		assert.deepEqual(
			results.map((r) => r.tier),
			[1, 1, 1],
			'none skipped the primary while its probe was in flight',
		);
		assert.equal(emulator.count('anthropic'), 3);
		assert.equal((await snapshot(primary())).state, 'closed');
	});
});

/** One chain, as one execution running several items at once. */
function concurrentSetUp() {
	const file = join(mkdtempSync(join(tmpdir(), 'breaker-')), 'state.sqlite');
	const clock = new VirtualClock();
	const store = new SqliteStateStore(file);
	const chain = new FailoverChain(
		{
			tiers: [tier(ctx.emulator, 'anthropic'), tier(ctx.emulator, 'openai')],
			backoff: { initialDelayMs: 10 },
		},
		{ breaker: new CircuitBreaker(store, POLICY, clock), random: HALF, clock },
	);
	return { clock, chain, snapshot: (circuit: string) => store.snapshot(circuit, clock.epochMs()) };
}
