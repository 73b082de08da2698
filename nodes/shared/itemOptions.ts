/**
 * The options about items, which only a node that takes items has: how many run at once,
 * and whether a task already answered is answered again.
 */
import type { INodeProperties } from 'n8n-workflow';

import { RUN_DEFAULTS } from '../../lib/engine/defaults';

export const CONCURRENCY_OPTION: INodeProperties = {
	displayName: 'Concurrency',
	name: 'concurrency',
	type: 'number',
	typeOptions: { minValue: 1, maxValue: 64 },
	default: RUN_DEFAULTS.concurrency,
	description: 'How many items are sent at once. Output order is kept.',
};

/** In the Options collection's alphabetical order. */
export const IDEMPOTENCY_OPTIONS: INodeProperties[] = [
	{
		displayName: 'Idempotency',
		name: 'idempotency',
		type: 'options',
		options: [
			{ name: 'Off', value: 'off' },
			{
				name: 'Same Prompt, Same Answer',
				value: 'derived',
				description:
					'Key from the workflow, this node, the prompts, the schema and the model chain',
			},
			{
				name: 'Custom Key',
				value: 'custom',
				description: 'Key from the Idempotency Key option, e.g. a ticket ID',
			},
		],
		default: 'off',
		description:
			'Whether a task already answered is answered again. With a key, a re-run or retry returns the stored answer (marked resilience.cached) without calling any provider.',
	},
	{
		displayName: 'Idempotency Key',
		name: 'idempotencyKey',
		type: 'string',
		default: '',
		placeholder: 'e.g. {{ $json.ticketId }}',
		description: 'Per item, when Idempotency is Custom Key',
	},
	{
		displayName: 'Idempotency TTL (Hours)',
		name: 'idempotencyTtlHours',
		type: 'number',
		typeOptions: { minValue: 0.01 },
		default: RUN_DEFAULTS.idempotencyTtlHours,
		description: 'How long a stored answer is served',
	},
];
