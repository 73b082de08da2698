/** Resilient LLM's task for one item: its prompt and system prompt. */
import type { IExecuteFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import type { Task } from '../../lib/engine/types';

function describe(value: unknown): string {
	if (value === undefined) return 'nothing (undefined)';
	if (value === null) return 'null';
	if (typeof value === 'string') return value.trim() === '' ? 'an empty string' : 'text';
	if (Array.isArray(value)) return 'a list';
	return `a${typeof value === 'object' ? 'n object' : ` ${typeof value}`}`;
}

/** Reads the prompt and system prompt of one item; bad values name the item and the field. */
export function readTask(ctx: IExecuteFunctions, itemIndex: number): Task {
	const prompt: unknown = ctx.getNodeParameter('prompt', itemIndex, undefined);
	if (typeof prompt !== 'string' || prompt.trim() === '') {
		throw new NodeOperationError(ctx.getNode(), `Item ${itemIndex}: the Prompt is empty`, {
			itemIndex,
			description: `The "Prompt" field resolved to ${describe(prompt)} for item ${itemIndex}; it must be non-empty text. Check the expression and the incoming data.`,
		});
	}
	const system: unknown = ctx.getNodeParameter('systemPrompt', itemIndex, '');
	if (system !== undefined && system !== null && typeof system !== 'string') {
		throw new NodeOperationError(
			ctx.getNode(),
			`Item ${itemIndex}: the System Prompt is not text`,
			{
				itemIndex,
				description: `The "System Prompt" field resolved to ${describe(system)}; it must be text or empty.`,
			},
		);
	}
	return {
		prompt,
		...(typeof system === 'string' && system.trim() !== '' ? { systemPrompt: system } : {}),
	};
}
