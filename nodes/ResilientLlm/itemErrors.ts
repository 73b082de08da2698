/** Resilient LLM's errors for one item, as n8n shows them: naming the item, and what to do. */
import type { IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { StateStoreUnavailableError } from '../../lib/state/types';

/** An item's failure while it ran. */
export function itemError(
	ctx: IExecuteFunctions,
	error: unknown,
	itemIndex: number,
): NodeOperationError {
	if (error instanceof NodeOperationError) return error;
	if (error instanceof StateStoreUnavailableError)
		return storeUnavailable(ctx, itemIndex, error.message);
	return new NodeOperationError(ctx.getNode(), error as Error, { itemIndex });
}

/**
 * An item failed because the state store could not be used. n8n swaps a message quoting a
 * system error code (ECONNREFUSED, EACCES, ENOTDIR, ...) for a generic sentence naming
 * neither the item nor the store ("Forbidden by access permissions, ..."); this message says
 * both, and the store's own words, so it is kept.
 */
export function storeUnavailable(
	ctx: IExecuteFunctions,
	itemIndex: number,
	problem: string,
): NodeOperationError {
	const message = `Item ${itemIndex}: the state store is unavailable: ${problem}`;
	const error = new NodeOperationError(ctx.getNode(), message, {
		itemIndex,
		description:
			'Fix the state store, or set Options › If State Store Is Unavailable to Proceed Without Shared State.',
	});
	error.message = message;
	return error;
}
