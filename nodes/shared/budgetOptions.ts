/**
 * The spend budget's options, shared by every node that runs a Model Chain: a limit in
 * dollars per execution, day or month, for this workflow or shared by name. Defaults are
 * the engine's.
 */
import type { INodeProperties } from 'n8n-workflow';

import { RUN_DEFAULTS } from '../../lib/engine/defaults';

/** In the Options collection's alphabetical order. */
export const BUDGET_OPTIONS: INodeProperties[] = [
	{
		displayName: 'Budget (USD)',
		name: 'budgetUsd',
		type: 'number',
		typeOptions: { minValue: 0, numberPrecision: 4 },
		default: RUN_DEFAULTS.budgetUsd,
		description:
			"The most the model calls may cost per Budget Period, in US dollars (0: no budget). Before each call its worst cost (the prompt at the tier's input price plus Max Output Tokens at its output price) is reserved; a call that does not fit is skipped for the next tier, and an item no tier could answer within the budget goes to Needs Human. Kept in the state store.",
	},
	{
		displayName: 'Budget Name',
		name: 'budgetName',
		type: 'string',
		default: RUN_DEFAULTS.budgetName,
		placeholder: 'e.g. support-team',
		description:
			"Empty: this workflow's own budget. The same name in several workflows shares one budget between them.",
	},
	{
		displayName: 'Budget Period',
		name: 'budgetPeriod',
		type: 'options',
		options: [
			{ name: 'Per Day', value: 'day' },
			{ name: 'Per Execution', value: 'execution' },
			{ name: 'Per Month', value: 'month' },
		],
		default: RUN_DEFAULTS.budgetPeriod,
		description: 'What the budget counts: each execution, each calendar day or each month',
	},
	{
		displayName: 'Budget Time Zone',
		name: 'budgetTimeZone',
		type: 'string',
		default: RUN_DEFAULTS.budgetTimeZone,
		placeholder: 'e.g. Europe/Berlin',
		description:
			"Where a budget's day or month begins, as an IANA time zone. Empty: the workflow's time zone.",
	},
];
