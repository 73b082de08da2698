/**
 * The circuit breaker's options, shared by every node that runs a Model Chain: whether it
 * is on, and when it opens and for how long. Defaults are the engine's.
 */
import type { INodeProperties } from 'n8n-workflow';

import { BREAKER_DEFAULTS, RUN_DEFAULTS } from '../../lib/engine/defaults';

/** In the Options collection's alphabetical order. */
export const BREAKER_OPTIONS: INodeProperties[] = [
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
];
