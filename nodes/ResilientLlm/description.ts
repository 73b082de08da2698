import type { INodeProperties, INodePropertyOptions } from 'n8n-workflow';

import {
	BACKOFF_DEFAULTS,
	BREAKER_DEFAULTS,
	CHAIN_DEFAULTS,
	RUN_DEFAULTS,
} from '../../lib/engine/defaults';
import { PROVIDERS } from '../../lib/providers/registry';

/**
 * The node's parameters. Their names are a public API: saved workflows refer to them, so a
 * rename ships as a new node version.
 */

/** The Provider dropdown, one option per provider in the registry. */
export const PROVIDER_OPTIONS: INodePropertyOptions[] = PROVIDERS.map((provider) => ({
	name: provider.label,
	value: provider.id,
	...('hint' in provider ? { description: provider.hint } : {}),
}));

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
];

/** One tier, in the order a person fills it: who, which model, how hard to try, then the rest. */
const TIER_FIELDS: INodeProperties[] = [
	{
		displayName: 'Provider',
		name: 'provider',
		type: 'options',
		options: PROVIDER_OPTIONS,
		default: 'anthropic',
		description: 'Select the matching credential on this node for each provider you use',
	},
	{
		displayName: 'Model',
		name: 'model',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
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
	{
		displayName: 'Model Chain',
		name: 'chain',
		type: 'fixedCollection',
		typeOptions: { multipleValues: true, sortable: true },
		placeholder: 'Add Tier',
		default: { tiers: [DEFAULT_TIER] },
		description:
			'Tried top to bottom: each tier is retried on passing failures, then the next tier takes over',
		options: [{ name: 'tiers', displayName: 'Tier', values: TIER_FIELDS }],
	},
	{
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
				description:
					"Only the first tier's model may answer; otherwise the item goes to Needs Human",
			},
		],
		default: 'standard',
	},
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
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Backoff Start (Ms)',
				name: 'initialBackoffMs',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: BACKOFF_DEFAULTS.initialDelayMs,
				description:
					"The first retry waits up to this long; each later one up to twice as long (with random jitter). A provider's own retry-after hint wins.",
			},
			{
				displayName: 'Circuit Breaker',
				name: 'circuitBreaker',
				type: 'boolean',
				default: RUN_DEFAULTS.circuitBreaker,
				description:
					'Whether to share provider outages across executions (on by default): after several failures in a row a model is skipped at once for a cool-down, then one probe tests it while other calls wait for its outcome',
			},
			{
				displayName: 'Circuit Breaker Cool-Down (Seconds)',
				name: 'breakerCooldownSeconds',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: BREAKER_DEFAULTS.openMs / 1000,
				description:
					'How long an open circuit skips its model before one probe goes through. Quota and auth failures open it ten times longer.',
			},
			{
				displayName: 'Circuit Breaker Failure Rate (%)',
				name: 'breakerFailureRatePercent',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 100 },
				default: BREAKER_DEFAULTS.failureRate * 100,
				description:
					'Also open the circuit when at least this share of the calls in one window failed (with at least 10 calls), e.g. a provider failing every other call. 0 turns this off.',
			},
			{
				displayName: 'Circuit Breaker Threshold',
				name: 'breakerThreshold',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: BREAKER_DEFAULTS.failureThreshold,
				description: 'Consecutive passing failures (429, 5xx, timeouts) that open the circuit',
			},
			{
				displayName: 'Circuit Breaker Window (Seconds)',
				name: 'breakerWindowSeconds',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: BREAKER_DEFAULTS.rateWindowMs / 1000,
				description: 'The window the failure rate is counted over',
			},
			{
				displayName: 'Concurrency',
				name: 'concurrency',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 64 },
				default: RUN_DEFAULTS.concurrency,
				description: 'How many items are sent at once. Output order is kept.',
			},
			{
				displayName: 'Drill',
				name: 'drill',
				type: 'options',
				options: [
					{ name: 'Off', value: 'off' },
					{
						name: 'Primary Down',
						value: 'primary_down',
						description: 'The first tier fails as if overloaded (529/503)',
					},
					{
						name: 'All Providers Down',
						value: 'all_down',
						description: 'Every tier fails as if overloaded: items go to Needs Human',
					},
					{
						name: 'Rate Limited',
						value: 'rate_limited',
						description: 'The first tier fails with 429',
					},
				],
				default: 'off',
				description:
					'For test runs: the chosen tiers fail without being called. Results are marked "drill" on every item.',
			},
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
			{
				displayName: 'If State Store Is Unavailable',
				name: 'onStoreUnavailable',
				type: 'options',
				options: [
					{
						name: 'Fail the Items',
						value: 'fail',
						description:
							'An item whose idempotency claim or circuit breaker check fails goes to the error output when On Error says so',
					},
					{
						name: 'Proceed Without Shared State',
						value: 'proceed',
						description:
							'The item runs without breaker and idempotency, marked resilience.degraded and logged as degraded',
					},
				],
				default: 'fail',
				description:
					'What happens to an item when the state store cannot be reached or written. An answer that arrived is always delivered: if it cannot be recorded, the item is marked resilience.degraded.',
			},
			{
				displayName: 'Max Output Tokens',
				name: 'maxOutputTokens',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: CHAIN_DEFAULTS.maxOutputTokens,
			},
			{
				displayName: 'Max Retry Wait (Seconds)',
				name: 'maxRetryWaitSeconds',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: BACKOFF_DEFAULTS.maxHintMs / 1000,
				description:
					'A provider asking to wait longer than this is skipped for the next tier instead',
			},
			{
				displayName: 'Record Metrics for Alerts',
				name: 'recordMetrics',
				type: 'boolean',
				default: RUN_DEFAULTS.recordMetrics,
				description:
					'Whether to count tasks per tier in the state store, for the Resilience Alert trigger',
			},
			{
				displayName: 'Require Complete Answer',
				name: 'requireComplete',
				type: 'boolean',
				default: CHAIN_DEFAULTS.requireComplete,
				description: 'Whether an answer cut off at the token limit counts as a failure',
			},
			{
				displayName: 'State Store',
				name: 'stateStore',
				type: 'options',
				options: [
					{
						name: 'Embedded',
						value: 'embedded',
						description: 'A SQLite file in the n8n user folder, for one n8n instance',
					},
					{
						name: 'Redis',
						value: 'redis',
						description:
							'Shared by every n8n main and worker: queue mode. Select a Resilient LLM: Redis credential.',
					},
				],
				default: 'embedded',
				description: 'Where the circuit breaker and idempotency keep their state',
			},
			{
				displayName: 'Task Deadline (Seconds)',
				name: 'deadlineSeconds',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: CHAIN_DEFAULTS.deadlineMs / 1000,
				description:
					'Total time per item across all tiers, waits included. An item out of time goes to Needs Human.',
			},
			{
				displayName: 'Temperature',
				name: 'temperature',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 2, numberPrecision: 2 },
				default: CHAIN_DEFAULTS.temperature,
			},
		],
	},
];
