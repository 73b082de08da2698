/**
 * The circuit breaker and streamed calls, on the embedded store and a virtual clock: failures
 * before the first token and mid-stream count, a finished stream counts as a success, and a
 * test call lets the calls held behind it go at its first event, not at the end of its answer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { CircuitBreaker } from '../../lib/engine/breaker/circuitBreaker';
import { Deadline } from '../../lib/engine/deadline';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import { TEST_BREAKER_POLICY } from '../support/breakerPolicy';
import { httpError } from '../support/fakeStreams';
import type { Play } from '../support/fakeStreams';
import { streamingChain } from '../support/streamingChain';
import { VirtualClock } from '../support/virtualClock';

function storeFile(): string {
	return join(mkdtempSync(join(tmpdir(), 'stream-breaker-')), 'state.sqlite');
}

const BROKEN: Play = { chunks: ['Half '], end: { error: httpError(500) } };
const HEALTHY: Play = { chunks: ['Whole.'] };

/** A two-tier chain whose primary plays `plays`, one run each, sharing one breaker. */
function chainWithBreaker(plays: Play[]) {
	const store = new SqliteStateStore(storeFile());
	const chain = streamingChain(
		[
			{ name: 'primary', plays },
			{ name: 'secondary', plays: [HEALTHY] },
		],
		{},
		{ breaker: (clock) => new CircuitBreaker(store, TEST_BREAKER_POLICY, clock) },
	);
	const circuit = CircuitBreaker.circuitOf({
		provider: 'anthropic',
		model: 'primary',
		apiKey: 'sk-test-key',
	});
	const snapshot = () => store.snapshot(circuit, chain.clock.epochMs());
	return { ...chain, store, snapshot };
}

describe('the breaker and streamed calls', () => {
	it('failures before the first token, at it and mid-stream open the circuit; then no call is made', async () => {
		const { fakes, run, snapshot, store } = chainWithBreaker([
			{ fail: httpError(529) },
			{ silent: true },
			BROKEN,
			HEALTHY,
		]);
		for (let i = 0; i < 3; i++) assert.equal((await run()).tier, 2);
		assert.equal((await snapshot()).state, 'open');
		const skipped = await run();
		assert.equal(skipped.tier, 2);
		assert.equal(skipped.attempts[0].status, 'skipped');
		assert.equal(fakes[0].calls, 3, 'no call while the circuit is open');
		await store.close();
	});

	it('a finished stream counts as a success: failures in a row start again after it', async () => {
		const { run, snapshot, store } = chainWithBreaker([BROKEN, BROKEN, HEALTHY, BROKEN, BROKEN]);
		const tiers: Array<number | undefined> = [];
		for (let i = 0; i < 5; i++) tiers.push((await run()).tier);
		assert.deepEqual(tiers, [2, 2, 1, 2, 2]);
		const state = await snapshot();
		assert.equal(state.state, 'closed');
		assert.equal(state.failures, 2);
		await store.close();
	});

	it("a test call's first event lets the calls held behind it go, before its answer is done", async () => {
		const clock = new VirtualClock();
		const store = new SqliteStateStore(storeFile());
		// A lease as long as the answer: without the first event, the second call would wait it out.
		const policy = { ...TEST_BREAKER_POLICY, probeLeaseMs: 60_000 };
		const breaker = new CircuitBreaker(store, policy, clock);
		const deadline = new Deadline(clock, 600_000);
		const options = { holdMs: 60_000, onDegraded: () => undefined };
		const log: string[] = [];
		const circuit = 'anthropic/claude#stream-probe';
		// Opened, then cooled down: the next call is its probe, with the long lease.
		for (let i = 0; i < policy.failureThreshold; i++)
			await breaker.pass(circuit, deadline, options, async () => ({
				failure: { errorClass: 'overloaded' as const },
			}));
		assert.equal((await store.snapshot(circuit, clock.epochMs())).state, 'open');
		clock.advanceTo(clock.now() + policy.openMs);
		const probe = breaker.pass(circuit, deadline, options, async (_ms, accepted) => {
			await clock.sleep(300);
			log.push('first event');
			accepted();
			await clock.sleep(10_000);
			log.push('answer done');
			return {};
		});
		const held = (async () => {
			await clock.sleep(100);
			log.push('second call asks');
			return breaker.pass(circuit, deadline, options, async () => {
				log.push('second call goes');
				return {};
			});
		})();
		await clock.run(Promise.all([probe, held]));
		assert.deepEqual(log, ['second call asks', 'first event', 'second call goes', 'answer done']);
		assert.equal((await store.snapshot(circuit, clock.epochMs())).state, 'closed');
		await store.close();
	});
});
