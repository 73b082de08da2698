/**
 * The parameters of every node that runs a Model Chain: the credentials notice, the chain
 * itself and its Criticality, and the credential slots. Their names are a public API: saved
 * workflows refer to them, so a rename ships as a new node version.
 */
import type { INodeCredentialDescription, INodeProperties } from 'n8n-workflow';

import { redisCredentialSlots } from './stateStoreParameters';
import { DEFAULT_TIER, TIER_FIELDS } from './tierFields';

/** The node's subtitle: its tiers' models, first to last. */
export const CHAIN_SUBTITLE =
	'={{ ($parameter["chain"]?.tiers ?? []).map((t) => t.provider === "connected" ? "Model " + (t.connectedModel ?? 1) : typeof t.model === "object" ? t.model?.value : t.model).join(" → ") }}';

/**
 * One slot per provider credential type, named for the providers that use it (the
 * description test holds this list to the provider registry). None is required: a tier's
 * provider decides which one a run needs, and the run says so when it is missing.
 */
export const CHAIN_CREDENTIALS: INodeCredentialDescription[] = [
	{ name: 'resilientLlmAnthropicApi', displayName: 'Anthropic', required: false },
	{ name: 'resilientLlmGeminiApi', displayName: 'Google Gemini', required: false },
	{ name: 'resilientLlmOllamaApi', displayName: 'Ollama', required: false },
	{ name: 'resilientLlmOpenAiApi', displayName: 'OpenAI', required: false },
	{
		name: 'resilientLlmOpenAiCompatibleApi',
		displayName: 'OpenAI-Compatible',
		required: false,
	},
	...redisCredentialSlots('/options.stateStore'),
];

/**
 * Shown right under the credential slots, which n8n lists above the parameters. A slot's
 * displayOptions cannot ask whether any tier uses its provider, so every slot stays in view;
 * and n8n refuses to run a node whose slot names a credential it cannot find, even one no
 * tier uses (an imported workflow's slot stays when its tier is removed).
 */
export const CREDENTIALS_NOTICE: INodeProperties = {
	displayName:
		'Only the providers used in the Model Chain need a credential. If n8n says this node "uses invalid credential", a slot above names one you do not have: select or create it there.',
	name: 'credentialsNotice',
	type: 'notice',
	default: '',
};

export const CHAIN: INodeProperties = {
	displayName: 'Model Chain',
	name: 'chain',
	type: 'fixedCollection',
	typeOptions: { multipleValues: true, sortable: true },
	placeholder: 'Add Tier',
	default: { tiers: [DEFAULT_TIER] },
	description:
		'Tried top to bottom: each tier is retried on passing failures, then the next tier takes over',
	options: [{ name: 'tiers', displayName: 'Tier', values: TIER_FIELDS }],
};

export const CRITICALITY: INodeProperties = {
	displayName: 'Criticality',
	name: 'criticality',
	type: 'options',
	options: [
		{
			name: 'Standard',
			value: 'standard',
			description: 'Any tier may answer, e.g. a summary that can come from a weaker model',
		},
		{
			name: 'High-Stakes',
			value: 'high_stakes',
			description: "Only the first tier's model may answer; otherwise the item goes to Needs Human",
		},
	],
	default: 'standard',
};
