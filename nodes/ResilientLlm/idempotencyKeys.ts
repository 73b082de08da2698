/**
 * The key an item's answer is stored under when Options › Idempotency is on: derived from
 * what makes two tasks the same, or the item's own Idempotency Key.
 */
import { createHash } from 'node:crypto';

import type { IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { ChainConfig, Task } from '../../lib/engine/types';
import type { ItemsRun } from './itemsRun';

/** The item's key; undefined with idempotency off or no state store to keep answers in. */
export function idempotencyKeyOf(
	ctx: IExecuteFunctions,
	run: ItemsRun,
	itemIndex: number,
	task: Task,
	config: ChainConfig,
): string | undefined {
	if (!run.store) return undefined;
	const node = ctx.getNode().name;
	if (run.idempotency === 'custom')
		return `custom:${run.workflowId}:${node}:${customKey(ctx, itemIndex)}`;
	if (run.idempotency === 'derived') return derivedKey(run.workflowId, node, task, config);
	return undefined;
}

/** The Idempotency Key option of one item: text or a number, not empty. */
function customKey(ctx: IExecuteFunctions, itemIndex: number): string {
	const custom: unknown = ctx.getNodeParameter('options.idempotencyKey', itemIndex, '');
	if ((typeof custom !== 'string' && typeof custom !== 'number') || String(custom).trim() === '') {
		throw new NodeOperationError(ctx.getNode(), `Item ${itemIndex}: the Idempotency Key is empty`, {
			itemIndex,
			description: 'Options › Idempotency Key must resolve to text or a number for every item.',
		});
	}
	return String(custom);
}

/** The derived idempotency key: the same prompt through the same node and chain is the same task. */
function derivedKey(workflowId: string, node: string, task: Task, config: ChainConfig): string {
	const identity = {
		workflowId,
		node,
		prompt: task.prompt,
		systemPrompt: task.systemPrompt ?? '',
		schema: config.output?.jsonSchema ?? null,
		json: Boolean(config.output?.json),
		chain: config.tiers.map((t) => [t.provider, t.model, t.baseUrl ?? '']),
	};
	return `derived:${createHash('sha256').update(JSON.stringify(identity)).digest('hex')}`;
}
