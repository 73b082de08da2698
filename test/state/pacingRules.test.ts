/**
 * The rate pacer's rules (lib/state/pacingRules.ts): the buckets its answers' headers set,
 * the AIMD window without headers, the hold after a 429, slots freed by leases; and both
 * stores applying them, the Redis store's Lua held to the TypeScript over random sequences.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
	acquirePace,
	COLD_HOLD_MS,
	MAX_PACE_WAIT_MS,
	paceRowOf,
	paceSnapshotOf,
	settlePace,
	WINDOW_POLL_MS,
} from '../../lib/state/pacingRules';
import type { PaceOutcome, PaceRow } from '../../lib/state/pacingRules';
import { RedisStateStore } from '../../lib/state/redisStore';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import type { PacingStore } from '../../lib/state/types';
import { RedisServer } from '../harness/redis';

const call = (id: string, tokens = 10) => ({ id, tokens, leaseMs: 60_000 });

/** A circuit past its cold start: its first answer came. */
function warmRow(): PaceRow {
	const row = paceRowOf(undefined);
	acquirePace(row, call('warm-up'), 0);
	settlePace(row, { id: 'warm-up', result: 'other' }, 0);
	return row;
}

describe('pacing rules', () => {
	it("a new circuit's first call goes alone; the others wait for its answer, or at most the cold hold", () => {
		const row = paceRowOf(undefined);
		assert.equal(acquirePace(row, call('first'), 1000), 0);
		assert.equal(acquirePace(row, call('b'), 1000), WINDOW_POLL_MS);
		// Its answer, headers or none, ends the hold: with none, nothing holds the calls back.
		settlePace(row, { id: 'first', result: 'answered' }, 1100);
		for (let i = 0; i < 50; i++) assert.equal(acquirePace(row, call(`c${i}`), 1100), 0);
		assert.equal(paceSnapshotOf(row, 1100).inFlight, 50);
		const stalled = paceRowOf(undefined);
		assert.equal(acquirePace(stalled, call('first'), 0), 0);
		assert.equal(acquirePace(stalled, call('b'), COLD_HOLD_MS - 1), WINDOW_POLL_MS);
		assert.equal(acquirePace(stalled, call('b'), COLD_HOLD_MS), 0);
	});

	it('an answer saying 2 requests are left lets 2 more go, then holds until the minute refills one', () => {
		const row = warmRow();
		assert.equal(acquirePace(row, call('a'), 0), 0);
		// 600 per minute: one request every 100 ms.
		settlePace(
			row,
			{ id: 'a', result: 'answered', requests: { limit: 600, remaining: 2, resetMs: 0 } },
			0,
		);
		assert.equal(acquirePace(row, call('b'), 0), 0);
		assert.equal(acquirePace(row, call('c'), 0), 0);
		const wait = acquirePace(row, call('d'), 0);
		assert.equal(wait, 100);
		assert.equal(acquirePace(row, call('d'), 50), 50);
		assert.equal(acquirePace(row, call('d'), 100), 0);
	});

	it('a tokens limit holds a call until its prompt fits', () => {
		const row = warmRow();
		settlePace(
			row,
			{ id: 'x', result: 'answered', tokens: { limit: 60_000, remaining: 500, resetMs: 0 } },
			0,
		);
		assert.equal(acquirePace(row, call('a', 400), 0), 0);
		// 100 left, 300 asked, 1 token per ms.
		assert.equal(acquirePace(row, call('b', 300), 0), 200);
		assert.equal(acquirePace(row, call('b', 300), 200), 0);
	});

	it('headers never raise what this side already counted as taken', () => {
		const row = warmRow();
		settlePace(
			row,
			{ id: 'x', result: 'answered', requests: { limit: 600, remaining: 5, resetMs: 0 } },
			0,
		);
		for (const id of ['a', 'b', 'c', 'd']) assert.equal(acquirePace(row, call(id), 0), 0);
		// A late answer, sent before the four went out, still says 4 are left.
		settlePace(
			row,
			{ id: 'a', result: 'answered', requests: { limit: 600, remaining: 4, resetMs: 0 } },
			0,
		);
		assert.equal(acquirePace(row, call('e'), 0), 0);
		assert.ok(acquirePace(row, call('f'), 0) > 0);
	});

	it('without headers: a 429 halves the calls in flight, each answer adds one back', () => {
		const row = warmRow();
		for (let i = 0; i < 8; i++) assert.equal(acquirePace(row, call(`c${i}`), 0), 0);
		settlePace(row, { id: 'c0', result: 'limited' }, 0);
		assert.equal(row.window, 4);
		// 7 still in flight: nothing goes until fewer than 4 are.
		assert.equal(acquirePace(row, call('n1'), 1), WINDOW_POLL_MS);
		for (const id of ['c1', 'c2', 'c3', 'c4']) settlePace(row, { id, result: 'answered' }, 2);
		assert.equal(row.window, 8);
		assert.equal(acquirePace(row, call('n1'), 3), 0);
		settlePace(row, { id: 'c5', result: 'limited' }, 4);
		assert.equal(row.window, 4);
		settlePace(row, { id: 'c6', result: 'limited' }, 4);
		settlePace(row, { id: 'c7', result: 'limited' }, 4);
		assert.equal(row.window, 1);
	});

	it('headers with no limit and no reset say nothing about the pace: no bucket, and no endless wait', () => {
		const row = warmRow();
		settlePace(row, { id: 'x', result: 'answered', requests: { remaining: 0, resetMs: 0 } }, 0);
		assert.equal(row.requests, undefined);
		assert.equal(acquirePace(row, call('a'), 0), 0);
	});

	it('a bucket never asks for more than a minute’s wait, and with headers a 429 leaves the window alone', () => {
		const row = warmRow();
		settlePace(
			row,
			// Nothing left, full again in ten minutes: a wait of ten minutes, capped.
			{ id: 'x', result: 'limited', requests: { remaining: 0, resetMs: 600_000 } },
			0,
		);
		assert.equal(row.window, 0, 'the buckets pace a provider that sends headers');
		assert.equal(acquirePace(row, call('a', 10_000), 0), MAX_PACE_WAIT_MS);
	});

	it("a 429's retry hint holds every call of the circuit", () => {
		const row = warmRow();
		acquirePace(row, call('a'), 0);
		settlePace(row, { id: 'a', result: 'limited', retryAfterMs: 1500 }, 0);
		assert.equal(acquirePace(row, call('b'), 500), 1000);
		assert.equal(acquirePace(row, call('b'), 1500), 0);
	});

	it('a call whose worker died frees its slot when its lease ends', () => {
		const row = warmRow();
		row.window = 1;
		assert.equal(acquirePace(row, { id: 'a', tokens: 0, leaseMs: 1000 }, 0), 0);
		assert.equal(acquirePace(row, call('b'), 999), WINDOW_POLL_MS);
		assert.equal(acquirePace(row, call('b'), 1000), 0);
	});
});

/** A deterministic sequence of acquires and settles, with headers now and then. */
function* randomSequence(seed: number, steps: number) {
	let state = seed;
	const random = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
	let now = 1_000_000;
	const open: string[] = [];
	for (let i = 0; i < steps; i++) {
		now += Math.floor(random() * 120);
		if (open.length === 0 || random() < 0.55) {
			const id = `c${i}`;
			yield {
				kind: 'acquire' as const,
				now,
				request: { id, tokens: Math.floor(random() * 900), leaseMs: 2000 },
			};
			open.push(id);
			continue;
		}
		const id = open.splice(Math.floor(random() * open.length), 1)[0];
		const roll = random();
		const outcome: PaceOutcome = {
			id,
			result: roll < 0.2 ? 'limited' : roll < 0.9 ? 'answered' : 'other',
			...(random() < 0.6
				? {
						// Now and then a server that says what is left but not the limit, or when.
						requests: {
							...(random() < 0.85 ? { limit: 600 } : {}),
							remaining: Math.floor(random() * 12),
							resetMs: random() < 0.2 ? 0 : Math.floor(random() * 2000),
						},
					}
				: {}),
			...(random() < 0.4
				? {
						tokens: {
							limit: 60_000,
							remaining: Math.floor(random() * 5000),
							resetMs: Math.floor(random() * 5000),
						},
					}
				: {}),
			...(roll < 0.2 && random() < 0.5 ? { retryAfterMs: Math.floor(random() * 900) } : {}),
		};
		yield { kind: 'settle' as const, now, outcome };
	}
}

/** Runs a sequence through a store and through the rules, and compares each answer and the end state. */
async function holdsToRules(store: PacingStore, circuit: string, seed: number): Promise<void> {
	const row: PaceRow = paceRowOf(undefined);
	let step = 0;
	for (const op of randomSequence(seed, 300)) {
		step++;
		if (op.kind === 'acquire') {
			const expected = acquirePace(row, op.request, op.now);
			assert.equal(
				await store.acquirePace(circuit, op.request, op.now),
				expected,
				`step ${step}: acquire`,
			);
		} else {
			settlePace(row, op.outcome, op.now);
			await store.settlePace(circuit, op.outcome, op.now);
		}
		const now = op.now;
		const got = await store.paceSnapshot(circuit, now);
		const want = paceSnapshotOf(paceRowOf(JSON.parse(JSON.stringify(row))), now);
		assert.deepEqual(got, want, `step ${step}: snapshot`);
	}
}

describe('pacing in the state stores', () => {
	let redis: RedisServer;
	let folder: string;
	before(async () => {
		redis = await RedisServer.start();
		folder = mkdtempSync(join(tmpdir(), 'rllm-pacing-'));
	});
	after(async () => {
		await redis?.stop();
		rmSync(folder, { recursive: true, force: true });
	});

	it('the Redis scripts give the answers of pacingRules.ts over random sequences', async () => {
		const store = new RedisStateStore({ host: '127.0.0.1', port: redis.port, prefix: 'pace1:' });
		await store.connect();
		try {
			for (const seed of [1, 7, 42]) await holdsToRules(store, `openai/gpt#${seed}`, seed);
		} finally {
			await store.close();
		}
	});

	it('the embedded store gives the same answers, and keeps them across a reopen', async () => {
		const file = join(folder, 'state.sqlite');
		let store = new SqliteStateStore(file);
		try {
			await holdsToRules(store, 'anthropic/claude#1', 3);
			const before = await store.paceSnapshot('anthropic/claude#1', 2_000_000);
			await store.close();
			store = new SqliteStateStore(file);
			assert.deepEqual(await store.paceSnapshot('anthropic/claude#1', 2_000_000), before);
		} finally {
			await store.close();
		}
	});
});
