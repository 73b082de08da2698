/**
 * The spend budget a Model Chain run keeps to, from Options › Budget (USD), Budget Period,
 * Budget Name and Budget Time Zone: none when the budget is 0 or no state store is open.
 */
import type { IDataObject, IExecuteFunctions, ISupplyDataFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { ConfigError } from '../../lib/engine/configError';
import { RUN_DEFAULTS } from '../../lib/engine/defaults';
import { SpendBudget } from '../../lib/engine/limits/budget';
import type { BudgetPeriod } from '../../lib/engine/limits/budget';
import type { StoreGuard } from '../../lib/state/storeGuard';
import type { StateStore } from '../../lib/state/types';
import { fieldLabel } from './fieldLabels';

type ChainContext = IExecuteFunctions | ISupplyDataFunctions;

/** Options › Budget (USD) as a number; 0 when unset. Not a number: NaN. */
export function budgetUsdOf(options: IDataObject): number {
	const value = options.budgetUsd ?? RUN_DEFAULTS.budgetUsd;
	return value === '' ? 0 : Number(value);
}

/** The run's budget, or none; settings it cannot keep to are an error naming the option. */
export function budgetOf(
	ctx: ChainContext,
	options: IDataObject,
	store: StateStore | undefined,
	guard: StoreGuard,
): SpendBudget | undefined {
	const limitUsd = budgetUsdOf(options);
	if (!Number.isFinite(limitUsd) || limitUsd < 0)
		throw new NodeOperationError(
			ctx.getNode(),
			`${fieldLabel('budget.limitUsd')} must be 0 (no budget) or more, got ${JSON.stringify(options.budgetUsd)}`,
		);
	if (limitUsd === 0 || !store) return undefined;
	const name = String(options.budgetName ?? RUN_DEFAULTS.budgetName).trim();
	const timeZone = String(options.budgetTimeZone ?? RUN_DEFAULTS.budgetTimeZone).trim();
	try {
		return new SpendBudget(
			{
				...(name ? { name } : {}),
				workflowId: String(ctx.getWorkflow().id ?? ''),
				workflowName: ctx.getWorkflow().name ?? undefined,
				limitUsd,
				period: String(options.budgetPeriod ?? RUN_DEFAULTS.budgetPeriod) as BudgetPeriod,
				timeZone: timeZone || ctx.getTimezone(),
				executionId: String(ctx.getExecutionId() ?? ''),
			},
			store,
			undefined,
			guard,
		);
	} catch (error) {
		if (!(error instanceof ConfigError))
			throw new NodeOperationError(ctx.getNode(), error as Error);
		throw new NodeOperationError(
			ctx.getNode(),
			`${fieldLabel(error.field)}: ${error.message.slice(error.field.length + 2)}`,
			{ description: `Field: ${fieldLabel(error.field)}` },
		);
	}
}
