/**
 * Alert counters summed in memory and written to the store once per interval, so that a task
 * costs no store write: one write per interval carries every task counted since the last.
 * A write that fails is sent again as it was, under the same write id, before anything
 * counted since: the store adds it once though the failure came after it was done (a lost
 * reply). close() writes what is left.
 */
import { randomUUID } from 'node:crypto';

import type { Schedule } from '../clock/sleep';
import { countsOfTask } from './types';
import type { Counters, CounterStore, MinuteCounts, TaskOutcome } from './types';

/** How often counts are written: alerts look at minutes, so a second late is nothing. */
export const FLUSH_EVERY_MS = 1_000;

/** A timer that does not keep the process alive for the sake of counters alone. */
const unrefSchedule: Schedule = (ms, callback) => {
	const timer = setTimeout(callback, ms);
	timer.unref();
	return () => clearTimeout(timer);
};

export interface CounterBufferOptions {
	flushEveryMs?: number;
	/** Runs the flush timer; an unref'd setTimeout unless a test brings its clock. */
	schedule?: Schedule;
	/** Milliseconds since the epoch: the minute a task is counted in. */
	now?: () => number;
	/** A flush that failed (its counts are kept for the next). */
	onFlushError?: (error: unknown) => void;
	/** A flush that wrote its counts. */
	onFlushed?: () => void;
}

/** One write to the store: the same id each time it is sent. */
interface Write {
	id: string;
	counts: MinuteCounts[];
}

export class CounterBuffer implements CounterStore {
	private pending = new Map<string, MinuteCounts>();
	/** A write that failed, kept as it was for the next flush. */
	private unsent?: Write;
	private cancelTimer?: () => void;
	private writing?: Promise<void>;
	private closed = false;
	private readonly flushEveryMs: number;
	private readonly schedule: Schedule;
	private readonly now: () => number;

	constructor(
		readonly store: CounterStore,
		private readonly options: CounterBufferOptions = {},
	) {
		this.flushEveryMs = options.flushEveryMs ?? FLUSH_EVERY_MS;
		this.schedule = options.schedule ?? unrefSchedule;
		this.now = options.now ?? Date.now;
	}

	/** Tasks counted and not yet written. */
	get pendingTasks(): number {
		let tasks = 0;
		for (const counts of [...(this.unsent?.counts ?? []), ...this.pending.values()])
			tasks += counts.tasks;
		return tasks;
	}

	/** Counts the task in memory; it reaches the store with the next flush. Never fails. */
	async countTask(workflowId: string, outcome: TaskOutcome, now = this.now()): Promise<void> {
		this.add([countsOfTask(workflowId, outcome, now)]);
	}

	async addCounts(counts: MinuteCounts[]): Promise<void> {
		this.add(counts);
	}

	/** This process's pending counts are written first, so a reader here sees its own tasks. */
	async readCounters(fromMs: number, toMs: number): Promise<Map<string, Counters>> {
		// A failed write keeps its counts; the read then shows what the store has.
		await this.flush().catch(() => undefined);
		return this.store.readCounters(fromMs, toMs);
	}

	/**
	 * Writes every pending count: a write that failed before goes first, as it was, then one
	 * write with everything counted since. On failure the write is kept for the next flush and
	 * the error is thrown.
	 */
	async flush(): Promise<void> {
		// One write at a time: counts taken by a write in flight are not taken twice.
		while (this.writing) await this.writing;
		if (this.unsent) await this.write(this.unsent);
		if (this.pending.size === 0) return;
		const batch = { id: randomUUID(), counts: [...this.pending.values()] };
		this.pending = new Map();
		await this.write(batch);
	}

	private async write(batch: Write): Promise<void> {
		const writing = this.store.addCounts(batch.counts, this.now(), batch.id);
		this.writing = writing.then(
			() => undefined,
			() => undefined,
		);
		try {
			await writing;
			this.unsent = undefined;
			this.options.onFlushed?.();
		} catch (error) {
			this.unsent = batch;
			this.arm();
			throw error;
		} finally {
			this.writing = undefined;
		}
	}

	/** Stops the timer and writes what is left. Later counts are written at once. */
	async close(): Promise<void> {
		this.closed = true;
		this.cancelTimer?.();
		this.cancelTimer = undefined;
		await this.flush();
	}

	private add(counts: MinuteCounts[]): void {
		this.merge(counts);
		if (this.closed) void this.flush().catch((error) => this.options.onFlushError?.(error));
		else this.arm();
	}

	private merge(counts: MinuteCounts[]): void {
		for (const c of counts) {
			const key = `${c.minute}\u0000${c.workflowId}`;
			const sum = this.pending.get(key);
			if (!sum) {
				this.pending.set(key, {
					...c,
					answeredByTier: [...c.answeredByTier],
					...(c.costByModel ? { costByModel: { ...c.costByModel } } : {}),
				});
				continue;
			}
			sum.tasks += c.tasks;
			c.answeredByTier.forEach((n, i) => (sum.answeredByTier[i] += n));
			sum.escalated += c.escalated;
			sum.costMicros += c.costMicros;
			for (const [model, micros] of Object.entries(c.costByModel ?? {})) {
				const byModel = (sum.costByModel ??= {});
				byModel[model] = (byModel[model] ?? 0) + micros;
			}
			if (c.workflowName) sum.workflowName = c.workflowName;
		}
	}

	/** One timer while counts wait; none when there is nothing to write. */
	private arm(): void {
		if (this.cancelTimer || this.closed || (this.pending.size === 0 && !this.unsent)) return;
		this.cancelTimer = this.schedule(this.flushEveryMs, () => {
			this.cancelTimer = undefined;
			this.flush()
				.catch((error) => this.options.onFlushError?.(error))
				.finally(() => this.arm());
		});
	}
}
