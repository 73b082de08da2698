/**
 * Resilient Chat Model's parameters: the Model Chain, Criticality and Options every chain
 * node shares, so that fields, labels and defaults live in one place. What makes no
 * sense for a model an AI root node calls is left out: the prompt and output format (the
 * root node owns the conversation and its parsing), concurrency and idempotency (each call
 * is one turn of a conversation, not an item).
 */
import type { INodeProperties } from 'n8n-workflow';

import { CHAIN, CREDENTIALS_NOTICE, CRITICALITY } from '../shared/chainProperties';
import { CONNECTED_MODELS_PARAMETER } from '../shared/connectedModels';
import { CHAIN_OPTIONS } from '../shared/chainOptions';

/** Options about items, which do not apply to a chat model. */
export const OPTIONS_LEFT_OUT = [
	'concurrency',
	'idempotency',
	'idempotencyKey',
	'idempotencyTtlHours',
] as const;

export const OPTIONS: INodeProperties[] = (CHAIN_OPTIONS.options as INodeProperties[]).filter(
	(option) => !(OPTIONS_LEFT_OUT as readonly string[]).includes(option.name),
);

/** Each option's default as the editor shows it: what an option left unset means. */
export const OPTION_DEFAULTS: Record<string, unknown> = Object.fromEntries(
	OPTIONS.map((option) => [option.name, option.default]),
);

export const properties: INodeProperties[] = [
	CREDENTIALS_NOTICE,
	{
		displayName:
			'Connect this node to the Chat Model input of an AI Agent, Basic LLM Chain or another AI node. Each call it gets runs through the Model Chain.',
		name: 'notice',
		type: 'notice',
		default: '',
	},
	CONNECTED_MODELS_PARAMETER,
	CHAIN,
	{
		...CRITICALITY,
		options: [
			{
				name: 'Standard',
				value: 'standard',
				description: 'Any tier may answer',
			},
			{
				name: 'High-Stakes',
				value: 'high_stakes',
				description:
					"Only the first tier's model may answer; otherwise the call fails with the reason, for the root node's On Error setting",
			},
		],
	},
	{ ...CHAIN_OPTIONS, options: OPTIONS },
];
