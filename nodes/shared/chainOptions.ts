/**
 * The Options of a node that runs a Model Chain, in alphabetical order as the editor lists
 * them. Resilient Chat Model shows them less the options about items.
 */
import type { INodeProperties } from 'n8n-workflow';

import { BACKOFF_DEFAULTS, CHAIN_DEFAULTS, RUN_DEFAULTS } from '../../lib/engine/defaults';
import { BREAKER_OPTIONS } from './breakerOptions';
import { BUDGET_OPTIONS } from './budgetOptions';
import { CONCURRENCY_OPTION, IDEMPOTENCY_OPTIONS } from './itemOptions';
import { stateStoreOption } from './stateStoreParameters';

export const CHAIN_OPTIONS: INodeProperties = {
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
		...BUDGET_OPTIONS,
		...BREAKER_OPTIONS,
		CONCURRENCY_OPTION,
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
		...IDEMPOTENCY_OPTIONS,
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
			displayName: 'Pace by Rate Limits',
			name: 'paceByRateLimits',
			type: 'boolean',
			default: RUN_DEFAULTS.paceByRateLimits,
			description:
				"Whether calls wait for room under each provider's rate limits (on by default), as its rate-limit headers report them, shared across executions through the state store; without headers, calls in flight are halved on each 429 and grow back by one per answer",
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
		stateStoreOption({
			description: 'Where the circuit breaker and idempotency keep their state',
			redisDescription:
				'Shared by every n8n main and worker: queue mode. Select a Resilient LLM: Redis credential.',
		}),
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
};
