/**
 * What only the Redis store has to get right: operations that run concurrently over one
 * connection (behind a proxy adding network latency), key prefixes that are glob characters
 * to Redis, and counter writes that a retry cannot apply twice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import Redis from 'ioredis';

import { admission, afterOutcome, rowOf, snapshotOf } from '../../lib/state/breakerRules';
import { CounterBuffer } from '../../lib/state/counterBuffer';
import { RedisStateStore } from '../../lib/state/redisStore';
import type { BreakerOutcome, BreakerPolicy } from '../../lib/state/types';
import { RedisServer } from '../harness/redis';
import { TEST_BREAKER_POLICY } from '../support/breakerPolicy';
import { LatencyProxy } from '../support/latencyProxy';

const POLICY = TEST_BREAKER_POLICY;

let redis: RedisServer;
let proxy: LatencyProxy;
before(async () => {
	redis = await RedisServer.start();
	proxy = await LatencyProxy.start(redis.port, 100);
});
after(async () => {
	await proxy?.stop();
	await redis?.stop();
});

let prefixes = 0;
async function storeVia(port: number, prefix = `rs${++prefixes}:`): Promise<RedisStateStore> {
	const store = new RedisStateStore({ host: '127.0.0.1', port, prefix });
	await store.connect();
	return store;
}

async function rawClient(): Promise<Redis> {
	const client = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true });
	await client.connect();
	return client;
}

describe('Redis store over a slow network', () => {
	it('20 concurrent breaker checks take about one round trip, not one each', async () => {
		const store = await storeVia(proxy.port);
		try {
			const circuit = 'openai/gpt-4o-mini';
			// The circuit's first call goes alone; once it succeeded, every call is let through.
			assert.equal(await store.admit(circuit, POLICY), 'probe');
			await store.record(circuit, 'success', POLICY);

			const from = proxy.roundTrips;
			const admissions = await Promise.all(
				Array.from({ length: 20 }, () => store.admit(circuit, POLICY)),
			);
			assert.deepEqual(admissions, Array(20).fill('allow'));
			const trips = proxy.roundTrips - from;
			assert.ok(trips <= 2, `20 admits took ${trips} round trips`);
		} finally {
			await store.close();
		}
	});

	it('20 concurrent outcomes, claims and renewals are each applied once, in about one round trip', async () => {
		const store = await storeVia(proxy.port);
		try {
			const policy = { ...POLICY, failureThreshold: 100 };
			await store.record('c', 'success', policy);
			let from = proxy.roundTrips;
			await Promise.all(Array.from({ length: 20 }, () => store.record('c', 'transient', policy)));
			assert.ok(proxy.roundTrips - from <= 2, `${proxy.roundTrips - from} round trips`);
			assert.equal((await store.snapshot('c')).failures, 20, 'no outcome lost to a race');

			from = proxy.roundTrips;
			const claims = await Promise.all(
				Array.from({ length: 20 }, (_, i) => store.claim('same', `owner-${i}`, 60_000)),
			);
			assert.ok(proxy.roundTrips - from <= 2, `${proxy.roundTrips - from} round trips`);
			assert.deepEqual(
				claims.map((c) => c.status).sort(),
				[...Array(19).fill('busy'), 'claimed'],
				'exactly one claim wins',
			);
			const winner = `owner-${claims.findIndex((c) => c.status === 'claimed')}`;
			from = proxy.roundTrips;
			const renewed = await Promise.all(
				Array.from({ length: 20 }, (_, i) => store.renew('same', `owner-${i}`, 60_000)),
			);
			assert.ok(proxy.roundTrips - from <= 2, `${proxy.roundTrips - from} round trips`);
			assert.deepEqual(renewed.map((ok, i) => (ok ? `owner-${i}` : undefined)).filter(Boolean), [
				winner,
			]);
		} finally {
			await store.close();
		}
	});
});

describe('Redis store: key prefixes', () => {
	it('a prefix with glob characters lists its own open circuits and no other installation’s', async () => {
		const glob = await storeVia(redis.port, 'team[1]:');
		const other = await storeVia(redis.port, 'team1:');
		const starred = await storeVia(redis.port, 'a*b?\\:');
		const plain = await storeVia(redis.port, 'aXXbY\\:');
		try {
			await glob.record('anthropic/claude-haiku-4-5', 'hard', POLICY, 0);
			await other.record('openai/gpt-4o-mini', 'hard', POLICY, 0);
			await starred.record('google/gemini-2.5-flash', 'hard', POLICY, 0);
			await plain.record('mistral/mistral-small', 'hard', POLICY, 0);
			assert.deepEqual(await glob.openCircuits(1), ['anthropic/claude-haiku-4-5']);
			assert.deepEqual(await other.openCircuits(1), ['openai/gpt-4o-mini']);
			assert.deepEqual(await starred.openCircuits(1), ['google/gemini-2.5-flash']);
			assert.deepEqual(await plain.openCircuits(1), ['mistral/mistral-small']);
		} finally {
			await Promise.all([glob, other, starred, plain].map((s) => s.close()));
		}
	});
});

describe('Redis store: alert counters', () => {
	const task = { tier: 1, escalated: false, costUsd: 0.001, workflowName: 'Ticket summaries' };

	it('a write that fails part-way adds nothing, so its retry counts each task once', async () => {
		const store = await storeVia(redis.port, 'partial:');
		const client = await rawClient();
		const buffer = new CounterBuffer(store, { flushEveryMs: 60_000 });
		try {
			// The names hash is not a hash: its write fails after the counts before it.
			await client.set('partial:workflow-names', 'not a hash');
			await buffer.countTask('wf-a', task);
			await assert.rejects(buffer.flush(), /WRONGTYPE/);
			assert.equal(buffer.pendingTasks, 1, 'kept for the next write');
			await client.del('partial:workflow-names');
			await buffer.flush();
			const totals = await store.readCounters(Date.now() - 120_000, Date.now() + 60_000);
			assert.equal(totals.get('wf-a')?.tasks, 1);
			assert.equal(totals.get('wf-a')?.workflowName, 'Ticket summaries');
		} finally {
			await buffer.close().catch(() => undefined);
			client.disconnect();
			await store.close();
		}
	});

	it('a write whose reply was lost is not added again when it is sent again', async () => {
		const store = await storeVia(proxy.port, 'lost-reply:');
		const buffer = new CounterBuffer(store, { flushEveryMs: 60_000 });
		try {
			// Redis knows the script from here on: the write below is the script itself running.
			await store.countTask('wf-warm', task);
			for (let i = 0; i < 3; i++) await buffer.countTask('wf-a', task);
			proxy.cutBeforeNextReply();
			await assert.rejects(buffer.flush());
			assert.equal(buffer.pendingTasks, 3);
			await buffer.countTask('wf-a', task);
			// The client reconnects by itself; the kept write goes again, then the new count.
			for (let attempt = 0; ; attempt++) {
				try {
					await buffer.flush();
					break;
				} catch (error) {
					if (attempt >= 50) throw error;
					await new Promise((resolve) => setTimeout(resolve, 100));
				}
			}
			assert.equal(buffer.pendingTasks, 0);
			const totals = await store.readCounters(Date.now() - 120_000, Date.now() + 60_000);
			assert.equal(totals.get('wf-a')?.tasks, 4, 'the lost reply’s three tasks counted once');
		} finally {
			await buffer.close().catch(() => undefined);
			await store.close();
		}
	});
});

describe('Redis store: breaker scripts', () => {
	it('give the answers of breakerRules.ts over random sequences of calls', async () => {
		const store = await storeVia(redis.port, 'rules:');
		// A small deterministic generator: the same sequences on every run.
		let seed = 20_261_127;
		const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
		const policies: BreakerPolicy[] = [
			POLICY,
			{ ...POLICY, failureRate: 0.5, rateMinCalls: 3, rateWindowMs: 2_000 },
		];
		const outcomes: BreakerOutcome[] = ['success', 'transient', 'hard', 'released'];
		try {
			for (let sequence = 0; sequence < 40; sequence++) {
				const circuit = `c${sequence}`;
				const policy = policies[sequence % policies.length];
				let row = rowOf(undefined);
				let now = 0;
				for (let step = 0; step < 40; step++) {
					now += Math.floor(random() * 700);
					if (random() < 0.4) {
						const expected = admission(row, policy, now);
						row = rowOf(expected.row);
						assert.equal(
							await store.admit(circuit, policy, now),
							expected.admission,
							`${circuit} step ${step}: admit at ${now}`,
						);
					} else {
						const outcome = outcomes[Math.floor(random() * outcomes.length)];
						row = afterOutcome(row, outcome, policy, now);
						await store.record(circuit, outcome, policy, now);
					}
					assert.deepEqual(
						await store.snapshot(circuit, now),
						snapshotOf(row, now),
						`${circuit} step ${step} at ${now}`,
					);
				}
			}
		} finally {
			await store.close();
		}
	});
});
