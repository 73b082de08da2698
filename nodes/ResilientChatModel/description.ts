/**
 * The sub-node's parameters: Resilient LLM's own Model Chain, Criticality and Options, taken
 * from its description so that fields, labels and defaults live in one place. What makes no
 * sense for a model an AI root node calls is left out: the prompt and output format (the
 * root node owns the conversation and its parsing), concurrency and idempotency (each call
 * is one turn of a conversation, not an item).
 */
import type { INodeProperties } from 'n8n-workflow';

import { CREDENTIALS_NOTICE, properties as llmProperties } from '../ResilientLlm/description';

/** Resilient LLM options that do not apply to a chat model. */
export const OPTIONS_LEFT_OUT = [
	'concurrency',
	'idempotency',
	'idempotencyKey',
	'idempotencyTtlHours',
] as const;

function llmProperty(name: string): INodeProperties {
	const property = llmProperties.find((p) => p.name === name);
	if (!property) throw new Error(`Resilient LLM has no parameter "${name}"`);
	return property;
}

const llmOptions = llmProperty('options');

export const OPTIONS: INodeProperties[] = (llmOptions.options as INodeProperties[]).filter(
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
	llmProperty('chain'),
	{
		...llmProperty('criticality'),
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
	{ ...llmOptions, options: OPTIONS },
];
