/**
 * Resilient LLM's parameters: the prompt and output format of each item, around the Model
 * Chain, Criticality and Options every chain node shares. Their names are a public API: saved
 * workflows refer to them, so a rename ships as a new node version.
 */
import type { INodeProperties } from 'n8n-workflow';

import { CHAIN, CREDENTIALS_NOTICE, CRITICALITY } from '../shared/chainProperties';
import { CONNECTED_MODELS_PARAMETER } from '../shared/connectedModels';
import { CHAIN_OPTIONS } from '../shared/chainOptions';

export const properties: INodeProperties[] = [
	CREDENTIALS_NOTICE,
	{
		displayName: 'Prompt',
		name: 'prompt',
		type: 'string',
		typeOptions: { rows: 4 },
		default: '',
		required: true,
		placeholder: 'e.g. Summarise this support ticket: {{ $json.body }}',
		description:
			'What to ask the model, per item. Use an expression to take it from the incoming data.',
	},
	{
		displayName: 'System Prompt',
		name: 'systemPrompt',
		type: 'string',
		typeOptions: { rows: 2 },
		default: '',
		description: "Instructions that set the model's role and rules. Optional.",
	},
	CONNECTED_MODELS_PARAMETER,
	CHAIN,
	CRITICALITY,
	{
		displayName: 'Output Format',
		name: 'outputFormat',
		type: 'options',
		options: [
			{ name: 'Text', value: 'text' },
			{
				name: 'JSON',
				value: 'json',
				description: 'The answer must be JSON; it is parsed into the item\'s "output" field',
			},
		],
		default: 'text',
	},
	{
		displayName: 'JSON Schema',
		name: 'jsonSchema',
		type: 'json',
		default: '',
		displayOptions: { show: { outputFormat: ['json'] } },
		description:
			'Optional. An answer that does not match counts as a failure: retried, then the next tier.',
	},
	CHAIN_OPTIONS,
];
