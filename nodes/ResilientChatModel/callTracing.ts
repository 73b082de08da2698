/**
 * What each call of the chat model leaves behind: a task log line, a count for the
 * Resilience Alert, and its summary on the node's output panel, next to what n8n's tracing
 * writes there.
 */
import type {
	IDataObject,
	INodeExecutionData,
	ISupplyDataFunctions,
	NodeOperationError as NodeOperationErrorType,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { TaskResult } from '../../lib/engine/types';
import { costByModelOf } from '../shared/alertCounters';
import type { ChainRun } from '../shared/chainRun';
import { callSummary } from '../shared/resultViews';
import { taskLogFields } from '../shared/taskLog';

/** Each finished call's summary, waiting for n8n's tracing to write that call's output. */
export type PendingSummaries = IDataObject[];

/** Records one finished call: its summary for the panel, its count, its log line. */
export function callRecorder(
	ctx: ISupplyDataFunctions,
	run: ChainRun,
	pending: PendingSummaries,
): (result: TaskResult) => Promise<void> {
	const node = ctx.getNode();
	const workflow = ctx.getWorkflow();
	const workflowId = String(workflow.id ?? '');
	const executionId = ctx.getExecutionId();
	return async (result) => {
		pending.push(callSummary(result));
		void run.metrics?.countTask(workflowId, {
			tier: result.tier,
			escalated: result.outcome === 'needs_human',
			costUsd: result.costUsd,
			costByModel: costByModelOf(result.tiers),
			workflowName: workflow.name,
		});
		ctx.logger.info('Resilient Chat Model call', {
			workflowId,
			executionId,
			node: node.name,
			...taskLogFields(result),
			toolCalls: result.toolCalls?.length ?? 0,
			...(run.storeProblem
				? { degraded: 'no shared state' }
				: result.degraded
					? { degraded: result.degraded }
					: {}),
		});
	};
}

/** A call no tier could answer, as the root node's error: the reason, and every attempt. */
export function callFailure(
	ctx: ISupplyDataFunctions,
	itemIndex: number,
	result: TaskResult,
): NodeOperationErrorType {
	return new NodeOperationError(ctx.getNode(), result.reasonText, {
		itemIndex,
		description: result.attempts
			.map(
				(a) =>
					`Tier ${a.tier} ${a.provider}/${a.model}, try ${a.attempt}: ${a.status}${a.errorClass ? ` (${a.errorClass}${a.httpStatus ? ` ${a.httpStatus}` : ''})` : ''}`,
			)
			.join('\n'),
		functionality: 'configuration-node',
	});
}

/**
 * The context n8n's tracing writes through: each call's input and output go to this node's
 * panel, and the output also gets which tier answered, its attempts, latency, tokens and cost.
 */
export function withCallSummaries(
	ctx: ISupplyDataFunctions,
	pending: PendingSummaries,
): ISupplyDataFunctions {
	return new Proxy(ctx, {
		get(target, property) {
			if (property === 'addOutputData') {
				return (...args: Parameters<ISupplyDataFunctions['addOutputData']>) => {
					const summary = pending.shift();
					const [type, index, data, ...rest] = args;
					if (summary && Array.isArray(data)) {
						const withSummary = data.map((run: INodeExecutionData[]) =>
							run.map((item) => ({ ...item, json: { ...item.json, resilience: summary } })),
						);
						return target.addOutputData(type, index, withSummary, ...rest);
					}
					return target.addOutputData(...args);
				};
			}
			const value: unknown = Reflect.get(target, property, target);
			return typeof value === 'function'
				? (value as (...a: unknown[]) => unknown).bind(target)
				: value;
		},
	});
}
