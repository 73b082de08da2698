/**
 * What the Resilience Alert reads from both state stores for budgets and spend: the budget
 * registry written in the same write as a settlement (or a refusal), thresholds announced
 * once per trigger, budget and period (kept across a reopen of the store, as across a
 * restart of n8n), and the cost per model summed per workflow and minute, a write sent again
 * under its write id added once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { CounterBuffer } from '../../lib/state/counterBuffer';
import { RedisStateStore } from '../../lib/state/redisStore';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import type { MinuteCounts, StateStore } from '../../lib/state/types';
import { RedisServer } from '../harness/redis';

const DAY_MS = 86_400_000;
const NOW = Date.parse('2026-12-03T10:00:00Z');

let redis: RedisServer;
before(async () => {
	redis = await RedisServer.start();
});
after(async () => {
	await redis?.stop();
});

interface StoreKind {
	name: string;
	/** A store; `again` opens a second one on the same file or prefix, as after a restart. */
	open(): Promise<{ store: StateStore; again: () => Promise<StateStore> }>;
	/** Rows expire by the caller's clock (SQLite), not by the server's own (Redis). */
	callersClock: boolean;
	/**
	 * A write is deduplicated by its write id (Redis, where a reply can be lost after the
	 * write was done); the embedded store's transaction either happened or not.
	 */
	writeIds: boolean;
}

let prefixes = 0;
const KINDS: StoreKind[] = [
	{
		name: 'embedded (SQLite)',
		open: async () => {
			const file = join(mkdtempSync(join(tmpdir(), 'budget-alerts-')), 'state.sqlite');
			return { store: new SqliteStateStore(file), again: async () => new SqliteStateStore(file) };
		},
		callersClock: true,
		writeIds: false,
	},
	{
		name: 'Redis',
		open: async () => {
			const prefix = `ba${++prefixes}:`;
			const connect = async () => {
				const store = new RedisStateStore({ host: '127.0.0.1', port: redis.port, prefix });
				await store.connect();
				return store;
			};
			return { store: await connect(), again: connect };
		},
		callersClock: false,
		writeIds: true,
	},
];

const LABEL = { name: 'support-team', periodName: 'day 2026-12-03' };
const OWN = { name: 'workflow wf-7', periodName: 'day 2026-12-03', workflowId: 'wf-7' };

/** One call reserved and settled at `actualMicros`, under a cap of `capMicros`. */
async function spend(
	store: StateStore,
	budget: string,
	id: string,
	actualMicros: number,
	capMicros: number,
	label?: typeof LABEL,
): Promise<boolean> {
	const request = { id, micros: actualMicros, capMicros, leaseMs: 60_000, label };
	const { reserved } = await store.reserveBudget(budget, '2026-12-03', request, 2 * DAY_MS, NOW);
	if (!reserved) return false;
	await store.settleBudget(
		budget,
		'2026-12-03',
		{ id, actualMicros, capMicros, label },
		2 * DAY_MS,
		NOW,
	);
	return true;
}

for (const kind of KINDS) {
	describe(`${kind.name} store: budget registry and announcements`, () => {
		it('lists each budget a call settled in, with its name, limit and spend; unlabelled ones not', async () => {
			const { store } = await kind.open();
			await spend(store, 'name:support-team', 'a', 30_000, 100_000, LABEL);
			await spend(store, 'name:support-team', 'b', 50_000, 100_000, LABEL);
			await spend(store, 'workflow:wf-7', 'c', 10_000, 200_000, OWN);
			await spend(store, 'name:quiet', 'd', 10_000, 100_000);
			const listed = await store.listBudgets(NOW);
			assert.deepEqual(
				listed.map(({ expiresAt, ...use }) => {
					assert.ok(expiresAt > NOW && expiresAt <= NOW + 2 * DAY_MS);
					return use;
				}),
				[
					{
						...LABEL,
						limitMicros: 100_000,
						turnedAway: false,
						budget: 'name:support-team',
						period: '2026-12-03',
						spentMicros: 80_000,
					},
					{
						...OWN,
						limitMicros: 200_000,
						turnedAway: false,
						budget: 'workflow:wf-7',
						period: '2026-12-03',
						spentMicros: 10_000,
					},
				],
			);
			if (kind.callersClock)
				assert.deepEqual(await store.listBudgets(NOW + 2 * DAY_MS), [], 'gone with its period');
			await store.close();
		});

		it('a call turned away marks the budget so; a new limit starts afresh', async () => {
			const { store } = await kind.open();
			assert.equal(await spend(store, 'name:support-team', 'a', 70_000, 100_000, LABEL), true);
			assert.equal(await spend(store, 'name:support-team', 'b', 40_000, 100_000, LABEL), false);
			let [use] = await store.listBudgets(NOW);
			assert.equal(use.turnedAway, true);
			assert.equal(use.spentMicros, 70_000);
			assert.equal(await spend(store, 'name:support-team', 'c', 40_000, 150_000, LABEL), true);
			[use] = await store.listBudgets(NOW);
			assert.equal(use.turnedAway, false, 'under the raised limit nothing was turned away');
			assert.equal(use.limitMicros, 150_000);
			await store.close();
		});

		it('announces a threshold once per trigger, budget, period and mark, across a reopen', async () => {
			const { store, again } = await kind.open();
			const mark = (s: StateStore, consumer: string, m: string, period = '2026-12-03') =>
				s.markBudgetAnnounced(consumer, 'name:support-team', period, m, DAY_MS, NOW);
			assert.equal(await mark(store, 'wf-1/alert', '80%@100000'), true);
			assert.equal(await mark(store, 'wf-1/alert', '80%@100000'), false);
			assert.equal(await mark(store, 'wf-2/alert', '80%@100000'), true, 'another trigger');
			assert.equal(await mark(store, 'wf-1/alert', '100%@100000'), true, 'another threshold');
			assert.equal(await mark(store, 'wf-1/alert', '80%@100000', '2026-12-04'), true);
			const reopened = await again();
			assert.equal(await mark(reopened, 'wf-1/alert', '80%@100000'), false, 'after a restart');
			assert.equal(await mark(reopened, 'wf-1/alert', '100%@100000'), false);
			await reopened.close();
			await store.close();
		});
	});

	describe(`${kind.name} store: spend per model`, () => {
		const minute = Math.floor(NOW / 60_000);
		const counts = (workflowId: string, m: number, byModel: Record<string, number>) =>
			({
				workflowId,
				minute: m,
				tasks: 1,
				answeredByTier: [1, 0, 0, 0],
				escalated: 0,
				costMicros: Object.values(byModel).reduce((a, b) => a + b, 0),
				costByModel: byModel,
			}) as MinuteCounts;

		it('sums each model’s cost per workflow over a window; a write sent again adds once (Redis)', async () => {
			const { store } = await kind.open();
			const write = [
				counts('wf-a', minute, { 'anthropic/claude-haiku-4-5': 120_000, 'openai/gpt-4o-mini': 3 }),
				counts('wf-b', minute, { 'openai/gpt-4o-mini': 7 }),
			];
			await store.addCounts(write, NOW, 'write-1');
			// Its reply was lost: the same write, under the same id.
			if (kind.writeIds) await store.addCounts(write, NOW, 'write-1');
			await store.addCounts(
				[counts('wf-a', minute + 1, { 'anthropic/claude-haiku-4-5': 10_000 })],
				NOW,
				'write-2',
			);
			await store.addCounts([counts('wf-a', minute - 5, { 'openai/gpt-4o-mini': 1 })], NOW, 'w3');
			const window = await store.readCounters(NOW, NOW + 120_000);
			assert.deepEqual(window.get('wf-a')?.costByModel, {
				'anthropic/claude-haiku-4-5': 0.13,
				'openai/gpt-4o-mini': 0.000003,
			});
			assert.equal(window.get('wf-a')?.costUsd, 0.130003);
			assert.equal(window.get('wf-a')?.tasks, 2);
			assert.deepEqual(window.get('wf-b')?.costByModel, { 'openai/gpt-4o-mini': 0.000007 });
			await store.close();
		});

		it('counts each task’s cost per model through the counter buffer', async () => {
			const { store } = await kind.open();
			const buffer = new CounterBuffer(store, { schedule: () => () => {}, now: () => NOW });
			const task = (costByModel: Record<string, number>) => ({
				tier: 1,
				escalated: false,
				costUsd: Object.values(costByModel).reduce((a, b) => a + b, 0),
				costByModel,
			});
			await buffer.countTask('wf-a', task({ 'anthropic/claude-haiku-4-5': 0.01 }));
			await buffer.countTask(
				'wf-a',
				task({ 'anthropic/claude-haiku-4-5': 0.01, 'openai/gpt-4o-mini': 0.002 }),
			);
			await buffer.countTask('wf-a', { tier: 1, escalated: false, costUsd: 0 });
			await buffer.flush();
			const window = await store.readCounters(NOW - 60_000, NOW + 60_000);
			assert.deepEqual(window.get('wf-a')?.costByModel, {
				'anthropic/claude-haiku-4-5': 0.02,
				'openai/gpt-4o-mini': 0.002,
			});
			assert.equal(window.get('wf-a')?.tasks, 3);
			await store.close();
		});
	});
}
