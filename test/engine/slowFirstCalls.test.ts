/**
 * Fresh circuits at real providers' speed: answers that take seconds, several items arriving
 * together with a circuit's first call. The first call may hold the others back only briefly,
 * and never makes them skip a provider that has not failed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { CircuitBreaker } from '../../lib/engine/breaker/circuitBreaker';
import { FailoverChain } from '../../lib/engine/failoverChain';
import type { TaskResult } from '../../lib/engine/types';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import { tier, useEmulator } from '../support/emulator';

const ctx = useEmulator();

/** A chain over a new store file: every circuit in it is fresh. */
function freshChain(providers: Array<'anthropic' | 'openai'>) {
	const file = join(mkdtempSync(join(tmpdir(), 'slow-first-')), 'state.sqlite');
	const store = new SqliteStateStore(file);
	const chain = new FailoverChain(
		{ tiers: providers.map((p) => tier(ctx.emulator, p, { timeoutMs: 30_000 })) },
		{ breaker: new CircuitBreaker(store) },
	);
	return { chain, store };
}

/** Runs items the way the node does: `concurrency` at a time, each taking the next item. */
async function batch(chain: FailoverChain, items: number, concurrency: number) {
	const results: TaskResult[] = [];
	let next = 0;
	await Promise.all(
		Array.from({ length: concurrency }, async () => {
			while (next < items) {
				const index = next++;
				results[index] = await chain.run({ prompt: `item ${index}` });
			}
		}),
	);
	return results;
}

describe('fresh circuits with slow answers', () => {
	for (const providers of [['anthropic'], ['anthropic', 'openai']] as const) {
		it(`answers every item from tier 1 when each answer takes 2.5 s (${providers.length} tier${providers.length > 1 ? 's' : ''})`, async () => {
			const { emulator } = ctx;
			emulator.loadScenario({ latencyMs: 2_500 });
			emulator.resetCounts();
			const { chain, store } = freshChain([...providers]);
			const results = await batch(chain, 4, 4);
			assert.deepEqual(
				results.map((r) => [r.outcome, r.tier]),
				results.map(() => ['answered', 1]),
				results.map((r) => r.reasonText).join('\n'),
			);
			assert.equal(emulator.count('anthropic'), 4, 'one call per item');
			assert.equal(emulator.count('openai'), 0, 'no failover');
			assert.ok(
				results.every((r) => r.attempts.every((a) => a.status === 'ok')),
				'no skipped or failed attempt',
			);
			await store.close();
		});
	}

	it('items arriving with the first call go out before it answers', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ latencyMs: 2_000 });
		emulator.resetCounts();
		const { chain, store } = freshChain(['anthropic']);
		const finished: number[] = [];
		const first = chain.run({ prompt: 'first' }).then(() => finished.push(0));
		const others = [1, 2, 3].map((i) =>
			chain.run({ prompt: `item ${i}` }).then(() => finished.push(i)),
		);
		// When the first answer arrives, the others are already at the provider.
		await first;
		assert.equal(emulator.count('anthropic'), 4, 'all four calls sent before the first answer');
		await Promise.all(others);
		assert.equal(finished.length, 4);
		await store.close();
	});
});

describe('a breaker store slower than the task', () => {
	it("a probe granted after the task's deadline is handed back, not held for its lease", async () => {
		const { emulator } = ctx;
		emulator.loadScenario({});
		const file = join(mkdtempSync(join(tmpdir(), 'slow-store-')), 'state.sqlite');
		const store = new SqliteStateStore(file);
		const policy = {
			failureThreshold: 1,
			openMs: 50,
			longOpenMs: 60_000,
			probeLeaseMs: 30_000,
			failureRate: 0,
			rateWindowMs: 60_000,
			rateMinCalls: 10,
		};
		const t = tier(emulator, 'anthropic');
		const circuit = CircuitBreaker.circuitOf(t);
		await store.record(circuit, 'transient', policy, Date.now()); // open, cool-down 50 ms
		await new Promise((resolve) => setTimeout(resolve, 60));
		// The store answers the task's breaker check only after the task's deadline.
		let admitted: Promise<unknown> | undefined;
		const slow: typeof store = Object.create(store);
		slow.admit = (...args: Parameters<typeof store.admit>) => {
			admitted = new Promise((resolve) => setTimeout(resolve, 300)).then(() =>
				store.admit(...args),
			);
			return admitted as ReturnType<typeof store.admit>;
		};
		const chain = new FailoverChain(
			{ tiers: [t], deadlineMs: 100 },
			{ breaker: new CircuitBreaker(slow, policy) },
		);
		const result = await chain.run({ prompt: 'x' });
		assert.equal(result.reason, 'deadline_exceeded');
		assert.equal(await admitted, 'probe', 'the late check was granted the probe');
		await new Promise((resolve) => setTimeout(resolve, 50));
		assert.equal(
			await store.admit(circuit, policy, Date.now()),
			'probe',
			'the next caller may test the circuit at once',
		);
		await store.close();
	});
});
