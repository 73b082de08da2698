/**
 * The prepared items through their chains, as many at once as Options › Concurrency says,
 * each counted for the Resilience Alert, logged, and put on its output.
 */
import type { IExecuteFunctions, NodeOperationError } from 'n8n-workflow';

import { RUN_DEFAULTS } from '../../lib/engine/defaults';
import { costByModelOf } from '../shared/alertCounters';
import { resilienceOf } from '../shared/resultViews';
import { taskLogFields } from '../shared/taskLog';
import { itemError } from './itemErrors';
import type { ItemOutputs } from './itemOutputs';
import type { ItemsRun } from './itemsRun';
import { itemStreamOf } from './itemStream';
import type { PreparedItem } from './prepareItems';
import { runTask } from './taskRun';
import type { TaskOutcome } from './taskRun';
import { inPool } from './workerPool';

export async function runItems(
	ctx: IExecuteFunctions,
	run: ItemsRun,
	prepared: PreparedItem[],
	outputs: ItemOutputs,
): Promise<void> {
	const signal = ctx.getExecutionCancelSignal();
	const ttlMs = Math.max(
		1,
		Number(run.options.idempotencyTtlHours ?? RUN_DEFAULTS.idempotencyTtlHours) * 3_600_000,
	);
	/** With On Error set to stop, the first item that fails: no new item starts after it. */
	let stopWith: NodeOperationError | undefined;
	/** Answers a provider sent (and was paid for) that a re-run would not find in the store. */
	let answersOnlyHere = 0;

	await inPool(
		prepared.length,
		typeof run.concurrency === 'number' ? run.concurrency : 1,
		() => stopWith !== undefined,
		async (position) => {
			const item = prepared[position];
			const stream = itemStreamOf(ctx, item.index);
			let outcome: TaskOutcome;
			try {
				outcome = await runTask(run, item, { signal, ttlMs, onText: stream?.onText });
			} catch (error) {
				stream?.end();
				// One item's trouble (its state store claim, a bug) is that item's alone.
				const nodeError = itemError(ctx, error, item.index);
				if (!ctx.continueOnFail()) stopWith ??= nodeError;
				else outputs.failed(item.index, nodeError);
				return;
			}
			stream?.end(outcome.result);
			const { result, cached } = outcome;
			if (result.outcome === 'answered' && !cached && !(item.key && outcome.kept))
				answersOnlyHere++;
			await finishItem(ctx, run, item, outcome, outputs);
		},
	);
	if (stopWith) deliverInsteadOfStopping(ctx, run, prepared, outputs, stopWith, answersOnlyHere);
}

/** An item whose chain ran: counted, logged, and on its output. */
async function finishItem(
	ctx: IExecuteFunctions,
	run: ItemsRun,
	{ index, task }: PreparedItem,
	{ result, cached, degraded }: TaskOutcome,
	outputs: ItemOutputs,
): Promise<void> {
	const workflow = ctx.getWorkflow();
	await run.metrics?.countTask(run.workflowId, {
		tier: result.tier,
		escalated: result.outcome === 'needs_human',
		costUsd: cached ? 0 : result.costUsd,
		...(cached ? {} : { costByModel: costByModelOf(result.tiers) }),
		workflowName: workflow.name,
	});
	ctx.logger.info('Resilient LLM task', {
		workflowId: run.workflowId,
		executionId: run.executionId,
		node: ctx.getNode().name,
		itemIndex: index,
		...taskLogFields(result),
		...(cached ? { cached: true } : {}),
		...(run.storeProblem ? { degraded: 'no shared state' } : degraded ? { degraded } : {}),
	});
	outputs.finished(index, task, result, resilienceOf(result, cached, degraded));
}

/**
 * Stopping would throw away answers already paid for that no store kept for the re-run:
 * they are delivered instead, and the items that did not finish go to a person.
 */
function deliverInsteadOfStopping(
	ctx: IExecuteFunctions,
	run: ItemsRun,
	prepared: PreparedItem[],
	outputs: ItemOutputs,
	stopWith: NodeOperationError,
	answersOnlyHere: number,
): void {
	if (answersOnlyHere === 0) throw stopWith;
	ctx.logger.error(
		`Resilient LLM: ${stopWith.message}; delivering the ${answersOnlyHere} answer(s) already received instead of stopping`,
		{ node: ctx.getNode().name, workflowId: run.workflowId, executionId: run.executionId },
	);
	for (const { index, task } of prepared)
		outputs.unfinished(index, task, `Did not finish: ${stopWith.message}`);
}
