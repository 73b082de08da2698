/**
 * One tier of the Model Chain, as the editor shows it: provider, model picker, attempts,
 * timeout, and the advanced fields under Tier Options.
 */
import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import { CHAIN_DEFAULTS } from '../../lib/engine/defaults';
import { connected } from '../../lib/providers/connected';
import { PROVIDERS } from '../../lib/providers/registry';
import { CONNECTED_INPUT_FIELD } from './connectedModels';

/** The Provider dropdown: one option per provider in the registry, then a connected model. */
export const PROVIDER_OPTIONS: INodePropertyOptions[] = [
	...PROVIDERS.map((provider) => ({
		name: provider.label,
		value: provider.id,
		...('hint' in provider ? { description: provider.hint } : {}),
	})),
	{
		name: connected.label,
		value: connected.id,
		description: "A chat model node connected to this node's Model inputs, with its own credential",
	},
];

const EXAMPLE_MODELS = PROVIDERS.map((p) => p.models[0]).filter(
	(m, i, all) => all.indexOf(m) === i,
);

/** The first tier a new node starts with. */
export const DEFAULT_TIER = {
	provider: 'anthropic',
	model: {
		__rl: true,
		mode: 'list',
		value: PROVIDERS[0].models[0],
		cachedResultName: PROVIDERS[0].models[0],
	},
};

/**
 * The advanced tier fields, under Tier Options. Workflows saved before Tier Options existed
 * hold them on the tier itself, so they stay readable there as hidden fields.
 */
const TIER_OPTIONS: INodeProperties[] = [
	{
		displayName: 'Base URL',
		name: 'baseUrl',
		type: 'string',
		default: '',
		placeholder: 'e.g. http://127.0.0.1:8000/v1',
		description:
			"Another path on the host of the tier's credential, whose key goes to no other host. Without a credential: the URL of an OpenAI-compatible or Ollama server that takes no key.",
	},
	{
		displayName: 'Context Window (Tokens)',
		name: 'contextWindow',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 0,
		description:
			"The model's context window. When a prompt is too long, only later tiers with a larger window are tried. 0 means unknown.",
	},
	{
		displayName: 'First Token Timeout (Seconds)',
		name: 'firstTokenTimeoutSeconds',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: CHAIN_DEFAULTS.firstTokenTimeoutMs / 1000,
		description:
			'When the answer streams: a try that has sent nothing by then is abandoned for a retry or the next tier',
	},
	{
		displayName: 'Input Price (USD per 1M Tokens)',
		name: 'inputPrice',
		type: 'number',
		typeOptions: { minValue: 0, numberPrecision: 4 },
		default: 0,
		description: 'Overrides the built-in price table. 0 uses the table.',
	},
	{
		displayName: 'Output Price (USD per 1M Tokens)',
		name: 'outputPrice',
		type: 'number',
		typeOptions: { minValue: 0, numberPrecision: 4 },
		default: 0,
		description: 'Overrides the built-in price table. 0 uses the table.',
	},
	{
		displayName: 'Stall Timeout (Seconds)',
		name: 'stallTimeoutSeconds',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: CHAIN_DEFAULTS.stallTimeoutMs / 1000,
		description:
			'When the answer streams: a pause this long between two pieces breaks the stream, and a retry or the next tier continues the answer',
	},
];

/** One tier, in the order a person fills it: who, which model, how hard to try, then the rest. */
export const TIER_FIELDS: INodeProperties[] = [
	{
		displayName: 'Provider',
		name: 'provider',
		type: 'options',
		options: PROVIDER_OPTIONS,
		default: 'anthropic',
		description: 'Select the matching credential on this node for each provider you use',
	},
	CONNECTED_INPUT_FIELD,
	{
		displayName: 'Model',
		name: 'model',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
		// A connected tier's model is its node's.
		displayOptions: { hide: { provider: ['connected'] } },
		description: 'From List shows the models the selected credential can use',
		typeOptions: { loadOptionsDependsOn: ['&provider', '&tierOptions.baseUrl'] },
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				placeholder: 'Select a model...',
				// Ollama and a self-hosted server named by the tier's Base URL list without a credential.
				typeOptions: {
					searchListMethod: 'listModels',
					searchable: true,
					skipCredentialsCheckInRLC: true,
				},
			},
			{
				displayName: 'By ID',
				name: 'id',
				type: 'string',
				placeholder: `e.g. ${EXAMPLE_MODELS.join(', ')}`,
			},
		],
	},
	{
		displayName: 'Attempts',
		name: 'attempts',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: 10 },
		default: CHAIN_DEFAULTS.attempts,
		description:
			'Tries on this tier, the first included. Errors that cannot succeed (bad key, quota, prompt too long) are never retried.',
	},
	{
		displayName: 'Timeout (Seconds)',
		name: 'timeoutSeconds',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: CHAIN_DEFAULTS.timeoutMs / 1000,
		description: 'How long one try may take',
	},
	{
		displayName: 'Tier Options',
		name: 'tierOptions',
		type: 'collection',
		placeholder: 'Add Tier Option',
		default: {},
		options: TIER_OPTIONS,
	},
	// Where workflows saved before Tier Options keep these values (see TIER_OPTIONS).
	{ displayName: 'Base URL', name: 'baseUrl', type: 'hidden', default: '' },
	{ displayName: 'Context Window (Tokens)', name: 'contextWindow', type: 'hidden', default: 0 },
	{ displayName: 'Input Price', name: 'inputPrice', type: 'hidden', default: 0 },
	{ displayName: 'Output Price', name: 'outputPrice', type: 'hidden', default: 0 },
];
