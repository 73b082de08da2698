/**
 * Every item's parameters, checked before any provider is called: its task, its chain and
 * its idempotency key. An item that fails here stops the run, or goes out with its error
 * when On Error continues.
 */
import type { ICredentialDataDecryptedObject, IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { FailoverChain } from '../../lib/engine/failoverChain';
import type { ChainConfig, Task } from '../../lib/engine/types';
import { readChainConfig } from '../shared/chainConfig';
import { idempotencyKeyOf } from './idempotencyKeys';
import { storeUnavailable } from './itemErrors';
import type { ItemOutputs } from './itemOutputs';
import type { ItemsRun } from './itemsRun';
import { readTask } from './readTask';

export interface PreparedItem {
	index: number;
	task: Task;
	chain: FailoverChain;
	config: ChainConfig;
	/** Set when idempotency is on. */
	key?: string;
}

export async function prepareItems(
	ctx: IExecuteFunctions,
	run: ItemsRun,
	count: number,
	outputs: ItemOutputs,
): Promise<PreparedItem[]> {
	const credentials = new Map<string, ICredentialDataDecryptedObject | null>();
	const prepared: PreparedItem[] = [];
	for (let index = 0; index < count; index++) {
		try {
			prepared.push(await prepareItem(ctx, run, index, credentials));
		} catch (error) {
			const nodeError =
				error instanceof NodeOperationError
					? error
					: new NodeOperationError(ctx.getNode(), error as Error, { itemIndex: index });
			if (!ctx.continueOnFail()) throw nodeError;
			outputs.failed(index, nodeError);
		}
	}
	return prepared;
}

async function prepareItem(
	ctx: IExecuteFunctions,
	run: ItemsRun,
	index: number,
	credentials: Map<string, ICredentialDataDecryptedObject | null>,
): Promise<PreparedItem> {
	checkRunOptions(ctx, run, index);
	const task = readTask(ctx, index);
	const config = await readChainConfig(ctx, index, credentials, run.connected);
	const chain = run.chainFor(config, index);
	const key = idempotencyKeyOf(ctx, run, index, task, config);
	return { index, task, chain, config, key };
}

/** The options read once for the run, reported on each item they stop. */
function checkRunOptions(ctx: IExecuteFunctions, run: ItemsRun, index: number): void {
	if (typeof run.concurrency === 'string') {
		throw new NodeOperationError(ctx.getNode(), `Item ${index}: ${run.concurrency}`, {
			itemIndex: index,
			description: 'Set Options › Concurrency to how many items may be sent at once.',
		});
	}
	if (typeof run.policy === 'string') {
		throw new NodeOperationError(ctx.getNode(), `Item ${index}: ${run.policy}`, {
			itemIndex: index,
			description:
				'Set the Circuit Breaker options to numbers, or remove them to use the defaults.',
		});
	}
	if (run.storeProblem && run.options.onStoreUnavailable !== 'proceed') {
		throw storeUnavailable(ctx, index, run.storeProblem);
	}
}
