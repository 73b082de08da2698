/**
 * The circuit breaker's gate as one call, CircuitBreaker.pass, on the embedded store and a
 * virtual clock: what it lets out, what it records, and what it does when time is up.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { NO_BREAKER } from '../../lib/engine/breaker/callGate';
import type { CallVerdict } from '../../lib/engine/breaker/callGate';
import { CircuitBreaker } from '../../lib/engine/breaker/circuitBreaker';
import { Deadline } from '../../lib/engine/deadline';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import { TEST_BREAKER_POLICY } from '../support/breakerPolicy';
import { VirtualClock } from '../support/virtualClock';

const CIRCUIT = 'anthropic/claude#gate';

function setUp() {
	const clock = new VirtualClock();
	const store = new SqliteStateStore(join(mkdtempSync(join(tmpdir(), 'gate-')), 'state.sqlite'));
	const breaker = new CircuitBreaker(store, TEST_BREAKER_POLICY, clock);
	const degraded: string[] = [];
	const options = { holdMs: 1_000, onDegraded: (why: string) => degraded.push(why) };
	return { clock, store, breaker, degraded, options };
}

const overloaded: CallVerdict = { failure: { errorClass: 'overloaded' } };

describe('the breaker gate', () => {
	it('lets calls out with the time left until failures open the circuit, then makes none', async () => {
		const { clock, store, breaker, options } = setUp();
		const deadline = new Deadline(clock, 10_000);
		const given: number[] = [];
		const passages: string[] = [];
		for (let i = 0; i < TEST_BREAKER_POLICY.failureThreshold + 1; i++) {
			const passage = await breaker.pass(CIRCUIT, deadline, options, async (remainingMs) => {
				given.push(remainingMs);
				return overloaded;
			});
			passages.push(passage.kind);
		}
		assert.deepEqual(passages, ['called', 'called', 'called', 'open']);
		assert.deepEqual(given, [10_000, 10_000, 10_000]);
		assert.equal((await store.snapshot(CIRCUIT, clock.epochMs())).state, 'open');
		assert.equal(
			await breaker.describeOpen(CIRCUIT, deadline),
			`3 failures, next probe at 09:00:01 UTC`,
		);
		await store.close();
	});

	it('makes no call once the deadline has passed, with or without a breaker', async () => {
		const { clock, breaker, options } = setUp();
		const deadline = new Deadline(clock, 0);
		let calls = 0;
		const call = async () => {
			calls++;
			return {};
		};
		assert.equal((await breaker.pass(CIRCUIT, deadline, options, call)).kind, 'deadline');
		assert.equal((await NO_BREAKER.pass(CIRCUIT, deadline, options, call)).kind, 'deadline');
		assert.equal(calls, 0);
	});

	it('a stopped first call is released: the next caller is not held behind it', async () => {
		const { clock, store, breaker, options } = setUp();
		const deadline = new Deadline(clock, 10_000);
		const first = await breaker.pass(CIRCUIT, deadline, options, async () => ({ cancelled: true }));
		assert.equal(first.kind, 'called');
		// Unreleased, the first call's lease would hold the next caller ('wait').
		const next = await breaker.admit(CIRCUIT);
		assert.equal(next.value, 'allow');
		await store.close();
	});
});
