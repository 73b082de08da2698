/**
 * What one execution of Resilient LLM reads once for all its items: the options of item 0,
 * and the state store, breaker and alert counters they open.
 */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { RUN_DEFAULTS } from '../../lib/engine/defaults';
import type { BreakerPolicy } from '../../lib/state/types';
import { breakerPolicyOf } from '../shared/breakerPolicy';
import { budgetUsdOf } from '../shared/chainBudget';
import { openChainRun } from '../shared/chainRun';
import { connectedModelsOf } from '../shared/connectedModels';
import type { ConnectedModels } from '../shared/connectedModels';
import type { ChainRun } from '../shared/chainRun';
import { concurrencyOf } from './workerPool';

export interface ItemsRun extends ChainRun {
	options: IDataObject;
	/** Options › Idempotency: off, derived or custom. */
	idempotency: string;
	/** Items in flight, or why Options › Concurrency is not a number of them. */
	concurrency: number | string;
	/** The breaker's policy, why its options are not numbers, or undefined with it off. */
	policy: BreakerPolicy | string | undefined;
	workflowId: string;
	executionId: string;
	/** The chat models on the node's Model inputs, read once for every item. */
	connected: ConnectedModels;
}

export async function openItemsRun(ctx: IExecuteFunctions): Promise<ItemsRun> {
	const options = ctx.getNodeParameter('options', 0, {}) as IDataObject;
	const idempotency = String(options.idempotency ?? 'off');
	// On unless switched off: every execution learns at once that a provider is down.
	const breakerOn = options.circuitBreaker !== false;
	const policy = breakerOn ? breakerPolicyOf(options) : undefined;
	const paced = options.paceByRateLimits !== false;
	const budgeted = budgetUsdOf(options) !== 0;
	const connected = await connectedModelsOf(ctx);
	const chainRun = await openChainRun(ctx, {
		label: 'Resilient LLM',
		options,
		needsStore: breakerOn || paced || budgeted || idempotency !== 'off',
		policy: typeof policy === 'object' ? policy : undefined,
		paced,
		withoutStore: 'breaker, pacing, budget and idempotency',
		// Without the store, items fail one by one (prepareItems), or run degraded.
		nameItems: true,
		warnInQueueMode: true,
		connected,
	});
	return {
		...chainRun,
		options,
		idempotency,
		concurrency: concurrencyOf(options.concurrency ?? RUN_DEFAULTS.concurrency),
		policy,
		workflowId: String(ctx.getWorkflow().id ?? ''),
		executionId: ctx.getExecutionId(),
		connected,
	};
}
