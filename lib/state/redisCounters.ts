/**
 * The Redis store's alert counters: per minute, a hash per workflow (tasks, tiers, cost), a
 * hash of its cost per model, and the set of workflows counted in it. One script adds a whole
 * write or none of it; reads go in two pipelined round trips, however many minutes.
 */
import { randomUUID } from 'node:crypto';

import type { RedisConnection } from './redisConnection';
import { emptyCounters } from './types';
import type { Counters, MinuteCounts } from './types';

/** Counters older than a day are of no use to any window; nor is the marker of a write that old. */
const COUNTERS_TTL_S = 86_400;

export class RedisCounters {
	constructor(
		private readonly connection: RedisConnection,
		private readonly prefix: string,
	) {}

	/**
	 * One script adds every count, or none. A write sent again under the same `writeId` (its
	 * reply was lost) is not added twice.
	 */
	async addCounts(counts: MinuteCounts[], writeId: string = randomUUID()): Promise<void> {
		if (counts.length === 0) return;
		const keys = [`${this.prefix}workflow-names`, `${this.prefix}counter-write:${writeId}`];
		for (const c of counts)
			keys.push(
				`${this.prefix}counters:${c.minute}:${c.workflowId}`,
				`${this.prefix}counters:${c.minute}`,
				`${this.prefix}counter-models:${c.minute}:${c.workflowId}`,
			);
		await this.connection.named(() =>
			this.connection.redis.rllmAddCounts(
				keys.length,
				...keys,
				JSON.stringify(counts),
				COUNTERS_TTL_S,
			),
		);
	}

	async readCounters(fromMs: number, toMs: number): Promise<Map<string, Counters>> {
		return this.connection.named(() => this.countersOver(fromMs, toMs));
	}

	/** Replies of a pipeline, failing on the first error. */
	private async run(
		pipeline: ReturnType<RedisConnection['redis']['pipeline']>,
	): Promise<unknown[]> {
		return ((await pipeline.exec()) ?? []).map(([error, value]) => {
			if (error) throw error;
			return value;
		});
	}

	private async countersOver(fromMs: number, toMs: number): Promise<Map<string, Counters>> {
		const redis = this.connection.redis;
		const minutes: number[] = [];
		for (let m = Math.floor(fromMs / 60_000); m < Math.ceil(toMs / 60_000); m++) minutes.push(m);
		const sets = redis.pipeline();
		for (const minute of minutes) sets.smembers(`${this.prefix}counters:${minute}`);
		const members = (await this.run(sets)) as string[][];
		const counted = minutes.flatMap((minute, i) =>
			members[i].map((workflow) => ({ minute, workflow })),
		);
		const hashes = redis.pipeline();
		for (const { minute, workflow } of counted)
			hashes
				.hgetall(`${this.prefix}counters:${minute}:${workflow}`)
				.hgetall(`${this.prefix}counter-models:${minute}:${workflow}`);
		const replies = (await this.run(hashes)) as Array<Record<string, string>>;
		const totals = new Map<string, Counters>();
		counted.forEach(({ workflow }, i) => {
			const total = totals.get(workflow) ?? emptyCounters();
			addMinute(total, replies[2 * i], replies[2 * i + 1]);
			totals.set(workflow, total);
		});
		if (totals.size > 0) {
			const ids = [...totals.keys()];
			const names = await redis.hmget(`${this.prefix}workflow-names`, ...ids);
			ids.forEach((id, i) => {
				if (names[i]) totals.get(id)!.workflowName = names[i];
			});
		}
		return totals;
	}
}

/** Adds one minute's hash of a workflow, and its cost per model, to its totals. */
function addMinute(
	total: Counters,
	h: Record<string, string>,
	models: Record<string, string>,
): void {
	const n = (field: string) => Number(h[field] ?? 0);
	total.tasks += n('tasks');
	total.answeredByTier = [0, 1, 2, 3].map(
		(i) => total.answeredByTier[i] + n(`t${i + 1}`),
	) as Counters['answeredByTier'];
	total.escalated += n('escalated');
	total.costUsd += n('cost_micros') / 1e6;
	for (const [model, micros] of Object.entries(models ?? {})) {
		if (!(Number(micros) > 0)) continue;
		const byModel = (total.costByModel ??= {});
		byModel[model] = ((byModel[model] ?? 0) * 1e6 + Number(micros)) / 1e6;
	}
}
