/**
 * One item's task through its chain: once per idempotency key when idempotency is on (a
 * stored answer is served instead), and what about shared state it went without.
 */
import { randomUUID } from 'node:crypto';

import { CHAIN_DEFAULTS } from '../../lib/engine/defaults';
import type { TaskResult } from '../../lib/engine/types';
import { runOnce } from '../../lib/state/idempotency';
import type { PreparedItem } from './prepareItems';
import type { ItemsRun } from './itemsRun';

export interface TaskOutcome {
	result: TaskResult;
	/** Served from the store, not asked again. */
	cached: boolean;
	/** Why shared state could not be used or written for this item, if it could not. */
	degraded?: string;
	/** Whether the store kept the answer for a re-run. */
	kept: boolean;
}

export async function runTask(
	run: ItemsRun,
	{ index, task, chain, config, key }: PreparedItem,
	{
		signal,
		ttlMs,
		onText,
	}: { signal?: AbortSignal; ttlMs: number; onText?: (delta: string) => void },
): Promise<TaskOutcome> {
	let result: TaskResult;
	let cached = false;
	let unstored: string | undefined;
	if (run.store && key) {
		// The lease outlives the task's deadline: a lease that ran out means its owner died.
		const leaseMs = (config.deadlineMs ?? CHAIN_DEFAULTS.deadlineMs) + 5_000;
		const owner = `${run.executionId}:${index}:${randomUUID()}`;
		({
			result,
			cached,
			degraded: unstored,
		} = await runOnce(
			run.store,
			key,
			owner,
			{ leaseMs, ttlMs, signal, guard: run.guard },
			() => chain.run(task, { signal, onText }),
			(r) => r.outcome === 'answered',
		));
	} else {
		result = await chain.run(task, { signal, onText });
	}
	const degraded =
		[
			run.storeProblem ? `ran without shared state: ${run.storeProblem}` : undefined,
			// A stored answer's own note is about the run that stored it.
			cached ? undefined : result.degraded,
			unstored,
		]
			.filter(Boolean)
			.join('; ') || undefined;
	return { result, cached, degraded, kept: !unstored };
}
