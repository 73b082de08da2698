/**
 * Alert counters summed in memory and written once per interval, on virtual time: a second
 * is whatever the test says it is, so "one write per interval" is exact on a busy machine.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';

import { CounterBuffer, FLUSH_EVERY_MS } from '../../lib/state/counterBuffer';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import { emptyCounters } from '../../lib/state/types';
import type { Counters, CounterStore, MinuteCounts } from '../../lib/state/types';
import { VirtualClock } from '../support/virtualClock';

/** A counter store that keeps every write it was given, and fails the next `failNext` of them. */
class RecordingStore implements CounterStore {
	writes: MinuteCounts[][] = [];
	/** The write id of every write asked for, failed or not. */
	writeIds: Array<string | undefined> = [];
	failNext = 0;
	private readonly totals = new Map<string, Counters>();

	async countTask(): Promise<void> {
		throw new Error('the buffer writes summed counts, never one task');
	}

	async addCounts(counts: MinuteCounts[], _now?: number, writeId?: string): Promise<void> {
		this.writeIds.push(writeId);
		if (this.failNext > 0) {
			this.failNext--;
			throw new Error('Redis at 127.0.0.1:6379 is unavailable: Connection is closed.');
		}
		this.writes.push(counts.map((c) => ({ ...c, answeredByTier: [...c.answeredByTier] })));
		for (const c of counts) {
			const total = this.totals.get(c.workflowId) ?? emptyCounters();
			total.tasks += c.tasks;
			c.answeredByTier.forEach((n, i) => (total.answeredByTier[i] += n));
			total.escalated += c.escalated;
			total.costUsd += c.costMicros / 1e6;
			if (c.workflowName) total.workflowName = c.workflowName;
			this.totals.set(c.workflowId, total);
		}
	}

	async readCounters(): Promise<Map<string, Counters>> {
		return new Map([...this.totals].map(([id, c]) => [id, { ...c }]));
	}
}

function buffered(store: CounterStore, clock: VirtualClock, errors: unknown[] = []) {
	return new CounterBuffer(store, {
		schedule: (ms, callback) => clock.after(ms, callback),
		now: () => clock.epochMs(),
		onFlushError: (error) => errors.push(error),
	});
}

/** Moves virtual time on and lets the flush it fired finish. */
async function advance(clock: VirtualClock, ms: number): Promise<void> {
	clock.advanceTo(clock.now() + ms);
	for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

const tier = (n: number) => ({ tier: n, escalated: false, costUsd: 0.001 });

describe('CounterBuffer', () => {
	it('sums tasks in memory and writes them in one write when the interval is up', async () => {
		const clock = new VirtualClock();
		const store = new RecordingStore();
		const buffer = buffered(store, clock);
		for (let i = 0; i < 100; i++) await buffer.countTask('wf-a', tier(i % 10 === 0 ? 2 : 1));
		await buffer.countTask('wf-a', { escalated: true, costUsd: 0, workflowName: 'Tickets' });
		await buffer.countTask('wf-b', tier(1));
		await advance(clock, FLUSH_EVERY_MS - 1);
		assert.equal(store.writes.length, 0, 'nothing written within the interval');
		assert.equal(buffer.pendingTasks, 102);

		await advance(clock, 1);
		assert.equal(store.writes.length, 1, 'one write for 102 tasks');
		const byWorkflow = new Map(store.writes[0].map((c) => [c.workflowId, c]));
		assert.deepEqual(byWorkflow.get('wf-a'), {
			workflowId: 'wf-a',
			minute: Math.floor(clock.epochStart / 60_000),
			tasks: 101,
			answeredByTier: [90, 10, 0, 0],
			escalated: 1,
			costMicros: 100_000,
			workflowName: 'Tickets',
		});
		assert.equal(byWorkflow.get('wf-b')?.tasks, 1);
		assert.equal(buffer.pendingTasks, 0);
	});

	it('writes once per interval while tasks keep coming, and not at all while none do', async () => {
		const clock = new VirtualClock();
		const store = new RecordingStore();
		const buffer = buffered(store, clock);
		// 10 tasks every 100 ms for 5 s.
		for (let step = 0; step < 50; step++) {
			for (let i = 0; i < 10; i++) await buffer.countTask('wf-a', tier(1));
			await advance(clock, 100);
		}
		assert.equal(store.writes.length, 5);
		assert.deepEqual(
			store.writes.map((w) => w[0].tasks),
			[100, 100, 100, 100, 100],
		);
		await advance(clock, 60_000);
		assert.equal(store.writes.length, 5, 'an idle buffer writes nothing');
	});

	it('counts each task in the minute it finished in, though both are written together', async () => {
		const clock = new VirtualClock(Date.parse('2026-01-05T09:00:59.500Z'));
		const store = new RecordingStore();
		const buffer = buffered(store, clock);
		await buffer.countTask('wf-a', tier(1));
		await advance(clock, 600);
		await buffer.countTask('wf-a', tier(1));
		await advance(clock, FLUSH_EVERY_MS);
		const minute = Math.floor(clock.epochStart / 60_000);
		assert.deepEqual(
			store.writes.map((w) => w.map((c) => [c.minute - minute, c.tasks])),
			[
				[
					[0, 1],
					[1, 1],
				],
			],
		);
	});

	it('close() writes what is pending at once, stops the timer, and writes later tasks at once', async () => {
		const clock = new VirtualClock();
		const store = new RecordingStore();
		const buffer = buffered(store, clock);
		await buffer.countTask('wf-a', tier(1));
		await buffer.countTask('wf-a', tier(3));
		await buffer.close();
		assert.equal(store.writes.length, 1);
		assert.equal(store.writes[0][0].tasks, 2);
		await advance(clock, 10 * FLUSH_EVERY_MS);
		assert.equal(store.writes.length, 1, 'no timer left behind');
		// A task that finishes while the process winds down is not left waiting for a timer.
		await buffer.countTask('wf-a', tier(1));
		await advance(clock, 0);
		assert.equal(store.writes.length, 2);
	});

	it('a failing write keeps its counts for the next interval; counting never fails', async () => {
		const clock = new VirtualClock();
		const store = new RecordingStore();
		const errors: unknown[] = [];
		const buffer = buffered(store, clock, errors);
		store.failNext = 2;
		for (let i = 0; i < 5; i++) await buffer.countTask('wf-a', tier(1));
		await advance(clock, FLUSH_EVERY_MS);
		assert.equal(errors.length, 1);
		assert.match(String(errors[0]), /Connection is closed/);
		assert.equal(buffer.pendingTasks, 5, 'kept');

		for (let i = 0; i < 2; i++) await buffer.countTask('wf-a', tier(2));
		await advance(clock, FLUSH_EVERY_MS);
		assert.equal(errors.length, 2);
		assert.equal(buffer.pendingTasks, 7);

		// The store is back: everything counted during the outage arrives, once. The failed write
		// goes again as it was, under its id (it may have been done before its failure), then
		// the tasks counted since.
		await advance(clock, FLUSH_EVERY_MS);
		assert.deepEqual(
			store.writes.map((w) => w.map((c) => c.answeredByTier)),
			[[[5, 0, 0, 0]], [[0, 2, 0, 0]]],
		);
		const [failed, again, done, since] = store.writeIds;
		assert.ok(failed && failed === again && again === done, 'one write id for all its tries');
		assert.ok(since && since !== failed, 'a new write for the new tasks');
		await advance(clock, 10 * FLUSH_EVERY_MS);
		const totals = await buffer.readCounters(0, Number.MAX_SAFE_INTEGER);
		assert.equal(totals.get('wf-a')?.tasks, 7, 'counted once, none lost');
	});

	it('a read in the same process sees the tasks counted there, before the interval is up', async () => {
		const clock = new VirtualClock();
		const store = new RecordingStore();
		const buffer = buffered(store, clock);
		await buffer.countTask('wf-a', tier(2));
		const totals = await buffer.readCounters(0, Number.MAX_SAFE_INTEGER);
		assert.equal(totals.get('wf-a')?.tasks, 1);
		assert.equal(store.writes.length, 1);
	});

	it('a read while the store fails its writes still reads, and keeps the counts', async () => {
		const clock = new VirtualClock();
		const store = new RecordingStore();
		const buffer = buffered(store, clock);
		store.failNext = 1;
		await buffer.countTask('wf-a', tier(1));
		assert.equal((await buffer.readCounters(0, Number.MAX_SAFE_INTEGER)).size, 0);
		assert.equal(buffer.pendingTasks, 1);
		await advance(clock, FLUSH_EVERY_MS);
		assert.equal((await buffer.readCounters(0, Number.MAX_SAFE_INTEGER)).get('wf-a')?.tasks, 1);
	});

	it('over the embedded store: a file failing its counter writes loses nothing once it recovers', async () => {
		const clock = new VirtualClock(Date.parse('2026-11-27T12:00:00Z'));
		const file = join(mkdtempSync(join(tmpdir(), 'counter-buffer-')), 'state.sqlite');
		const store = new SqliteStateStore(file);
		const fault = new DatabaseSync(file);
		fault.exec(`CREATE TRIGGER fail_counters BEFORE INSERT ON counters
			BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;`);
		const errors: unknown[] = [];
		const buffer = buffered(store, clock, errors);
		for (let i = 0; i < 3; i++) await buffer.countTask('wf-a', tier(1));
		await advance(clock, FLUSH_EVERY_MS);
		assert.match(String(errors[0]), /disk I\/O error/);
		fault.exec('DROP TRIGGER fail_counters');
		fault.close();
		await buffer.countTask('wf-a', { tier: 2, escalated: false, costUsd: 0.0005 });
		await advance(clock, FLUSH_EVERY_MS);
		const from = clock.epochStart - 60_000;
		assert.deepEqual((await store.readCounters(from, from + 180_000)).get('wf-a'), {
			tasks: 4,
			answeredByTier: [3, 1, 0, 0],
			escalated: 0,
			costUsd: 0.0035,
		});
		await buffer.close();
		await store.close();
	});
});
