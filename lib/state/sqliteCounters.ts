/**
 * The embedded store's alert counters: per workflow and minute, the tasks, their tiers, their
 * cost, and the cost per model. Each write is one transaction: all of it or none, so a write
 * sent again after a failure adds its counts once.
 */
import type { SqliteFile } from './sqliteFile';
import { countsOfTask, emptyCounters } from './types';
import type { Counters, CounterStore, MinuteCounts, TaskOutcome } from './types';

/** Counters older than a day are of no use to any window, nor to today's spend. */
const KEEP_MINUTES = 1440;

export class SqliteCounters implements CounterStore {
	constructor(private readonly sqlite: SqliteFile) {}

	async countTask(workflowId: string, outcome: TaskOutcome, now = Date.now()): Promise<void> {
		return this.addCounts([countsOfTask(workflowId, outcome, now)], now);
	}

	/** One transaction: all or nothing, so a failed write sent again adds its counts once (no `writeId` needed). */
	async addCounts(counts: MinuteCounts[], now = Date.now()): Promise<void> {
		if (counts.length === 0) return;
		const db = this.sqlite.db;
		await this.sqlite.transaction(() => {
			const add = db.prepare(
				`INSERT INTO counters (workflow, minute, tasks, t1, t2, t3, t4, escalated, cost_micros) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT(workflow, minute) DO UPDATE SET tasks = tasks + excluded.tasks, t1 = t1 + excluded.t1, t2 = t2 + excluded.t2, t3 = t3 + excluded.t3,
				t4 = t4 + excluded.t4, escalated = escalated + excluded.escalated, cost_micros = cost_micros + excluded.cost_micros`,
			);
			const addModel = db.prepare(
				`INSERT INTO counter_models (workflow, minute, model, cost_micros) VALUES (?, ?, ?, ?)
				ON CONFLICT(workflow, minute, model) DO UPDATE SET cost_micros = cost_micros + excluded.cost_micros`,
			);
			const name = db.prepare(
				`INSERT INTO workflow_names (workflow, name) VALUES (?, ?)
				ON CONFLICT(workflow) DO UPDATE SET name = excluded.name`,
			);
			for (const c of counts) {
				add.run(c.workflowId, c.minute, c.tasks, ...c.answeredByTier, c.escalated, c.costMicros);
				for (const [model, micros] of Object.entries(c.costByModel ?? {}))
					addModel.run(c.workflowId, c.minute, model, micros);
				if (c.workflowName) name.run(c.workflowId, c.workflowName);
			}
			const oldest = Math.floor(now / 60_000) - KEEP_MINUTES;
			db.prepare('DELETE FROM counters WHERE minute < ?').run(oldest);
			db.prepare('DELETE FROM counter_models WHERE minute < ?').run(oldest);
		});
	}

	async readCounters(fromMs: number, toMs: number): Promise<Map<string, Counters>> {
		const minutes = [Math.floor(fromMs / 60_000), Math.ceil(toMs / 60_000)];
		const rows = this.sqlite.db
			.prepare(
				`SELECT c.workflow, SUM(tasks) tasks, SUM(t1) t1, SUM(t2) t2, SUM(t3) t3, SUM(t4) t4, SUM(escalated) escalated,
				SUM(cost_micros) cost, n.name
				FROM counters c LEFT JOIN workflow_names n ON n.workflow = c.workflow
				WHERE minute >= ? AND minute < ? GROUP BY c.workflow`,
			)
			.all(...minutes) as Array<Record<string, number> & { workflow: string; name: string | null }>;
		const totals = new Map<string, Counters>();
		for (const r of rows) {
			totals.set(r.workflow, {
				...emptyCounters(),
				tasks: r.tasks,
				answeredByTier: [r.t1, r.t2, r.t3, r.t4],
				escalated: r.escalated,
				costUsd: r.cost / 1e6,
				...(r.name ? { workflowName: r.name } : {}),
			});
		}
		const models = this.sqlite.db
			.prepare(
				`SELECT workflow, model, SUM(cost_micros) cost FROM counter_models
				WHERE minute >= ? AND minute < ? GROUP BY workflow, model ORDER BY workflow, model`,
			)
			.all(...minutes) as Array<{ workflow: string; model: string; cost: number }>;
		for (const m of models) {
			const total = totals.get(m.workflow);
			if (total && m.cost > 0) (total.costByModel ??= {})[m.model] = m.cost / 1e6;
		}
		return totals;
	}
}
