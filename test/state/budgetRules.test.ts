/**
 * The spend budget's rules (lib/state/budgetRules.ts): reservations within the cap, holds
 * freed by settling or by their lease, actual costs added; both stores applying them, the
 * Redis store's Lua held to the TypeScript over random sequences; and reservations racing
 * at the cap from two stores on one Redis, and from two threads on one SQLite file, never
 * reserving past it together.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

import {
	budgetRowOf,
	budgetSnapshotOf,
	reserveBudget,
	settleBudget,
} from '../../lib/state/budgetRules';
import type { BudgetRow } from '../../lib/state/budgetRules';
import { RedisStateStore } from '../../lib/state/redisStore';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import type { BudgetStore } from '../../lib/state/types';
import { RedisServer } from '../harness/redis';

const CAP = 10_000;
const DAY_MS = 86_400_000;
const call = (id: string, micros: number, leaseMs = 60_000) => ({
	id,
	micros,
	capMicros: CAP,
	leaseMs,
});

/**
 * One racer on its own thread: reservations on its own connection to the shared file, from
 * the moment the test says go (both threads ready, so that their reservations interleave).
 */
async function race(file: string, prefix: string, count: number): Promise<boolean[]> {
	const store = new SqliteStateStore(file);
	const go = new Promise((resolve) => parentPort?.once('message', resolve));
	parentPort?.postMessage('ready');
	await go;
	try {
		const answers: boolean[] = [];
		for (let i = 0; i < count; i++) {
			const reservation = await store.reserveBudget(
				'name:shared',
				'2026-01-05',
				{ id: `${prefix}${i}`, micros: 70, capMicros: 7_000, leaseMs: 600_000 },
				DAY_MS,
				1_000,
			);
			answers.push(reservation.reserved);
			// A breath between calls, as between real ones: the other thread gets the lock too.
			await new Promise((resolve) => setTimeout(resolve, 1));
		}
		return answers;
	} finally {
		await store.close();
	}
}

if (!isMainThread) {
	const { file, prefix, count } = workerData as { file: string; prefix: string; count: number };
	void race(file, prefix, count).then((answers) => parentPort?.postMessage(answers));
} else {
	describe('budget rules', () => {
		it('reserves while spent, holds and the call fit the cap, then refuses', () => {
			const row = budgetRowOf(undefined);
			for (let i = 0; i < 5; i++) assert.equal(reserveBudget(row, call(`c${i}`, 2_000), 0), true);
			assert.equal(reserveBudget(row, call('c5', 1), 0), false);
			assert.deepEqual(budgetSnapshotOf(row, CAP, 0), {
				spentMicros: 0,
				heldMicros: CAP,
				remainingMicros: 0,
			});
		});

		it('settling frees the hold and adds the actual cost, which may be less than reserved', () => {
			const row = budgetRowOf(undefined);
			assert.equal(reserveBudget(row, call('a', 6_000), 0), true);
			assert.equal(reserveBudget(row, call('b', 6_000), 0), false);
			settleBudget(row, { id: 'a', actualMicros: 2_500 }, 1);
			assert.equal(reserveBudget(row, call('b', 6_000), 2), true);
			assert.deepEqual(budgetSnapshotOf(row, CAP, 2), {
				spentMicros: 2_500,
				heldMicros: 6_000,
				remainingMicros: 1_500,
			});
			// A cheaper call still fits in what is left.
			assert.equal(reserveBudget(row, call('c', 1_500), 3), true);
			assert.equal(reserveBudget(row, call('d', 1), 3), false);
		});

		it('a hold whose worker died lapses with its lease', () => {
			const row = budgetRowOf(undefined);
			assert.equal(reserveBudget(row, call('a', CAP, 1_000), 0), true);
			assert.equal(reserveBudget(row, call('b', 1), 999), false);
			assert.equal(reserveBudget(row, call('b', 1), 1_000), true);
			// Settled late, the cost still counts.
			settleBudget(row, { id: 'a', actualMicros: 4_000 }, 1_100);
			assert.equal(budgetSnapshotOf(row, CAP, 1_100).spentMicros, 4_000);
		});

		it('a call that costs nothing goes even when the budget is spent, and holds nothing', () => {
			const row: BudgetRow = { spentMicros: CAP + 5, holds: {} };
			assert.equal(reserveBudget(row, call('free', 0), 0), true);
			assert.deepEqual(row.holds, {});
			assert.equal(budgetSnapshotOf(row, CAP, 0).remainingMicros, 0);
		});
	});

	describe('budgets in the state stores', () => {
		let redis: RedisServer;
		let folder: string;
		before(async () => {
			redis = await RedisServer.start();
			folder = mkdtempSync(join(tmpdir(), 'rllm-budget-'));
		});
		after(async () => {
			await redis?.stop();
			rmSync(folder, { recursive: true, force: true });
		});

		const redisStore = async (prefix: string) => {
			const store = new RedisStateStore({ host: '127.0.0.1', port: redis.port, prefix });
			await store.connect();
			return store;
		};

		it('the Redis scripts give the answers of budgetRules.ts over random sequences', async () => {
			const store = await redisStore('budget1:');
			try {
				for (const seed of [1, 7, 42]) await holdsToRules(store, `name:team ${seed}`, seed);
			} finally {
				await store.close();
			}
		});

		it('the embedded store gives the same answers, and keeps them across a reopen', async () => {
			const file = join(folder, 'rules.sqlite');
			let store = new SqliteStateStore(file);
			try {
				await holdsToRules(store, 'workflow:wf-1', 3);
				const before = await store.budgetSnapshot('workflow:wf-1', 'day', SEQ_CAP, 2_000_000);
				await store.close();
				store = new SqliteStateStore(file);
				assert.deepEqual(
					await store.budgetSnapshot('workflow:wf-1', 'day', SEQ_CAP, 2_000_000),
					before,
				);
			} finally {
				await store.close();
			}
		});

		it('two Redis stores racing 200 reservations at the cap never reserve past it together', async () => {
			const [one, two] = [await redisStore('race:'), await redisStore('race:')];
			try {
				const ask = (store: RedisStateStore, id: string) =>
					store.reserveBudget(
						'name:shared',
						'2026-01',
						{ id, micros: 70, capMicros: 7_000, leaseMs: 600_000 },
						DAY_MS,
						1_000,
					);
				const answers = await Promise.all(
					Array.from({ length: 200 }, (_, i) => ask(i % 2 ? one : two, `r${i}`)),
				);
				const reserved = answers.filter((a) => a.reserved).length;
				assert.equal(reserved, 100, '7000 / 70: exactly the cap, no more');
				const snapshot = await one.budgetSnapshot('name:shared', '2026-01', 7_000, 1_000);
				assert.deepEqual(snapshot, { spentMicros: 0, heldMicros: 7_000, remainingMicros: 0 });
			} finally {
				await one.close();
				await two.close();
			}
		});

		it('two threads on one SQLite file racing 200 reservations never reserve past the cap together', async () => {
			const file = join(folder, 'race.sqlite');
			new SqliteStateStore(file).close();
			const racer = (prefix: string) => {
				// This file again, on a thread of its own, compiled by tsx as the test runner's is.
				const worker = new Worker(
					`require('tsx/cjs/api').require(${JSON.stringify(__filename)}, ${JSON.stringify(__filename)})`,
					{ eval: true, workerData: { file, prefix, count: 100 } },
				);
				const message = () =>
					new Promise<unknown>((resolve, reject) => {
						worker.once('message', resolve);
						worker.once('error', reject);
					});
				return { worker, ready: message(), message };
			};
			const racers = [racer('a'), racer('b')];
			await Promise.all(racers.map((r) => r.ready));
			const done = racers.map((r) => r.message() as Promise<boolean[]>);
			for (const r of racers) r.worker.postMessage('go');
			const [one, two] = await Promise.all(done);
			const reserved = [...one, ...two].filter(Boolean).length;
			assert.equal(reserved, 100, '7000 / 70: exactly the cap, no more');
			assert.ok(
				one.includes(true) && two.includes(true),
				`both threads got some: ${one.filter(Boolean).length} + ${two.filter(Boolean).length}`,
			);
			const store = new SqliteStateStore(file);
			try {
				assert.deepEqual(await store.budgetSnapshot('name:shared', '2026-01-05', 7_000, 1_000), {
					spentMicros: 0,
					heldMicros: 7_000,
					remainingMicros: 0,
				});
			} finally {
				await store.close();
			}
		});

		it("a period's row goes once its time to live has passed", async () => {
			const store = new SqliteStateStore(join(folder, 'ttl.sqlite'));
			const redisOne = await redisStore('ttl:');
			try {
				for (const budgets of [store, redisOne] as BudgetStore[]) {
					await budgets.reserveBudget('workflow:wf', 'day', call('a', 100), DAY_MS, 0);
					await budgets.settleBudget(
						'workflow:wf',
						'day',
						{ id: 'a', actualMicros: 80, capMicros: CAP },
						DAY_MS,
						0,
					);
				}
				assert.equal((await store.budgetSnapshot('workflow:wf', 'day', CAP, 1)).spentMicros, 80);
				assert.equal(
					(await store.budgetSnapshot('workflow:wf', 'day', CAP, DAY_MS)).spentMicros,
					0,
				);
				const pttl = await redisTtl(redis.port, 'ttl:budget:workflow%3Awf:day');
				assert.ok(pttl > DAY_MS - 60_000 && pttl <= DAY_MS, `PTTL ${pttl}`);
			} finally {
				await store.close();
				await redisOne.close();
			}
		});
	});
}

/** The time to live Redis holds for `key`, in ms. */
async function redisTtl(port: number, key: string): Promise<number> {
	const { default: Redis } = await import('ioredis');
	const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
	try {
		await client.connect();
		return await client.pttl(key);
	} finally {
		client.disconnect();
	}
}

/** The cap of the random sequences: reached some way into them. */
const SEQ_CAP = 50_000;

/** A deterministic sequence of reservations and settlements, the clock moving on. */
function* randomSequence(seed: number, steps: number) {
	let state = seed;
	const random = () => (state = (state * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
	let now = 1_000_000;
	const open: string[] = [];
	for (let i = 0; i < steps; i++) {
		now += Math.floor(random() * 400);
		if (open.length === 0 || random() < 0.55) {
			const id = `c${i}`;
			const micros = random() < 0.1 ? 0 : Math.floor(random() * 3_000);
			yield {
				kind: 'reserve' as const,
				now,
				request: { ...call(id, micros, 200 + Math.floor(random() * 3_000)), capMicros: SEQ_CAP },
			};
			open.push(id);
			continue;
		}
		const id = open.splice(Math.floor(random() * open.length), 1)[0];
		yield {
			kind: 'settle' as const,
			now,
			settlement: { id, actualMicros: Math.floor(random() * 1_000) },
		};
	}
}

/** Runs a sequence through a store and through the rules, comparing each answer and snapshot. */
async function holdsToRules(store: BudgetStore, budget: string, seed: number): Promise<void> {
	const row = budgetRowOf(undefined);
	let step = 0;
	let refused = 0;
	for (const op of randomSequence(seed, 300)) {
		step++;
		if (op.kind === 'reserve') {
			const reserved = reserveBudget(row, op.request, op.now);
			if (!reserved) refused++;
			const got = await store.reserveBudget(budget, 'day', op.request, DAY_MS, op.now);
			assert.deepEqual(
				got,
				{ reserved, ...budgetSnapshotOf(row, SEQ_CAP, op.now) },
				`step ${step}: reserve`,
			);
		} else {
			settleBudget(row, op.settlement, op.now);
			const got = await store.settleBudget(
				budget,
				'day',
				{ ...op.settlement, capMicros: SEQ_CAP },
				DAY_MS,
				op.now,
			);
			assert.deepEqual(got, budgetSnapshotOf(row, SEQ_CAP, op.now), `step ${step}: settle`);
		}
		const want = budgetSnapshotOf(budgetRowOf(JSON.parse(JSON.stringify(row))), SEQ_CAP, op.now);
		assert.deepEqual(
			await store.budgetSnapshot(budget, 'day', SEQ_CAP, op.now),
			want,
			`step ${step}`,
		);
	}
	assert.ok(refused > 0, 'the sequence reached the cap');
}
