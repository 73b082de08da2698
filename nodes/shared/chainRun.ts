/**
 * What a Model Chain run needs besides its parameters, opened the same way by Resilient LLM
 * (once per execution) and Resilient Chat Model (once per model it supplies): the state
 * store, the circuit breaker on it, the alert counters, and the chain for each config.
 */
import type { IDataObject, IExecuteFunctions, ISupplyDataFunctions } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { CircuitBreaker } from '../../lib/engine/breaker/circuitBreaker';
import { ConfigError } from '../../lib/engine/configError';
import { FailoverChain } from '../../lib/engine/failoverChain';
import { RatePacer } from '../../lib/engine/limits/ratePacer';
import type { ChainDependencies } from '../../lib/engine/failoverChain';
import type { ChainConfig } from '../../lib/engine/types';
import { providerOf } from '../../lib/providers/registry';
import type { CounterBuffer } from '../../lib/state/counterBuffer';
import { StoreGuard } from '../../lib/state/storeGuard';
import type { BreakerPolicy, StateStore } from '../../lib/state/types';
import { countersOf } from './alertCounters';
import { budgetOf } from './chainBudget';
import type { ConnectedModels } from './connectedModels';
import type { Warn } from './alertCounters';
import { fieldLabel } from './fieldLabels';
import { openStateStore } from './stateStores';

type ChainContext = IExecuteFunctions | ISupplyDataFunctions;

export interface ChainRunSettings {
	/** The node's name in log lines: "Resilient LLM", "Resilient Chat Model". */
	label: string;
	options: IDataObject;
	/** Whether anything asks for the state store: the circuit breaker, pacing, a budget, idempotency. */
	needsStore: boolean;
	/** The circuit breaker's policy; without one, no breaker. */
	policy?: BreakerPolicy;
	/** Whether calls are paced by the providers' rate limits (Options › Pace by Rate Limits). */
	paced: boolean;
	/** What a run without the store goes without, for the warning that says so. */
	withoutStore: string;
	/** Whether errors start with the item ("Item 2: …"), for a node whose items fail one by one. */
	nameItems: boolean;
	/** Called when the store cannot be opened and Options say not to go on without it. */
	onStoreUnavailable?: (problem: string) => void;
	/** Whether to warn that the embedded store is not shared when n8n runs in queue mode. */
	warnInQueueMode?: boolean;
	/** The chat models on the node's Model inputs, for connected tiers. */
	connected?: ConnectedModels;
}

export interface ChainRun {
	store?: StateStore;
	/** Why the state store could not be opened, when it could not. */
	storeProblem?: string;
	guard: StoreGuard;
	/** Where tasks are counted for the Resilience Alert; none with Record Metrics off. */
	metrics?: CounterBuffer;
	/** The chain for a config, built once per distinct config with the run's breaker. */
	chainFor(config: ChainConfig, itemIndex: number): FailoverChain;
}

/** Warned once per process, not once per execution. */
let queueModeWarned = false;

export async function openChainRun(
	ctx: ChainContext,
	settings: ChainRunSettings,
): Promise<ChainRun> {
	const { options, label } = settings;
	const proceed = options.onStoreUnavailable === 'proceed';
	const guard = new StoreGuard(proceed ? 'proceed' : 'fail');
	const kind = options.stateStore === 'redis' ? 'redis' : 'embedded';
	const node = ctx.getNode();

	// Shared state, when asked for. If it cannot be had: fail, or go on without it.
	let store: StateStore | undefined;
	let storeProblem: string | undefined;
	if (settings.needsStore) {
		try {
			store = await openStateStore(ctx, kind);
			if (settings.warnInQueueMode && kind === 'embedded') warnIfQueueMode(ctx, label);
		} catch (error) {
			storeProblem = (error as Error).message;
			if (!proceed) settings.onStoreUnavailable?.(storeProblem);
			else
				ctx.logger.warn(
					`${label}: state store unavailable, running without ${settings.withoutStore} (degraded)`,
					{ node: node.name, error: storeProblem },
				);
		}
	}
	// Counters for the Resilience Alert trigger: summed in memory, written once a second.
	const metrics = await alertCountersFor(
		ctx,
		{ label, recordMetrics: options.recordMetrics !== false, kind, store, storeProblem },
		ctx.logger,
	);
	const breaker =
		store && settings.policy
			? new CircuitBreaker(store, settings.policy, undefined, guard)
			: undefined;
	// Pacing spares 429s: a store that fails lets calls go unpaced, whatever the option says.
	const pacer = store && settings.paced ? new RatePacer(store) : undefined;
	const budget = budgetOf(ctx, options, store, guard);
	const chains = new Map<string, FailoverChain>();
	const chainFor = (config: ChainConfig, itemIndex: number) => {
		const key = JSON.stringify(config);
		let chain = chains.get(key);
		if (!chain) {
			chain = buildChain(ctx, config, itemIndex, settings.nameItems, {
				breaker,
				pacer,
				budget,
				adapterFor: settings.connected?.adapterFor,
			});
			chains.set(key, chain);
		}
		return chain;
	};
	return { store, storeProblem, guard, metrics, chainFor };
}

/** In queue mode each worker has its own embedded file: nothing is shared between workers. */
function warnIfQueueMode(ctx: ChainContext, label: string): void {
	if (process.env.EXECUTIONS_MODE !== 'queue' || queueModeWarned) return;
	queueModeWarned = true;
	ctx.logger.warn(
		`${label}: n8n runs in queue mode, but this node uses the embedded state store, which each worker keeps to itself. Choose Options › State Store › Redis so that workers share the circuit breaker and idempotency.`,
		{ node: ctx.getNode().name, workflowId: String(ctx.getWorkflow().id ?? '') },
	);
}

/**
 * Where a node counts its tasks for the Resilience Alert: nowhere with Record Metrics for
 * Alerts off; else the store the node already opened, or the one its options name. Best
 * effort, never in the way of an item: a store that cannot be opened is logged and nothing
 * is counted.
 */
async function alertCountersFor(
	ctx: ChainContext,
	node: {
		label: string;
		recordMetrics: boolean;
		kind: 'embedded' | 'redis';
		store?: StateStore;
		storeProblem?: string;
	},
	logger: Warn,
): Promise<CounterBuffer | undefined> {
	if (!node.recordMetrics) return undefined;
	let store = node.store;
	if (!store && !node.storeProblem) {
		store = await openStateStore(ctx, node.kind).catch((error: Error) => {
			logger.warn(`${node.label}: no state store for alert counters`, {
				node: ctx.getNode().name,
				error: error.message,
			});
			return undefined;
		});
	}
	return store ? countersOf(store, logger) : undefined;
}

/** The chain for a config; a config the engine refuses is an error naming the field. */
function buildChain(
	ctx: ChainContext,
	config: ChainConfig,
	itemIndex: number,
	nameItem: boolean,
	dependencies: ChainDependencies,
): FailoverChain {
	try {
		return new FailoverChain(config, dependencies);
	} catch (error) {
		if (error instanceof ConfigError) {
			const tier = /^tiers\[(\d+)\]\.apiKey$/.exec(error.field);
			const provider = tier ? config.tiers[Number(tier[1])]?.provider : undefined;
			const item = nameItem ? `Item ${itemIndex}: ` : '';
			const message = provider
				? `${item}${nameItem ? 'the' : 'The'} "${providerOf(provider).credential.displayName}" credential has no API key`
				: `${item}${fieldLabel(error.field)} ${error.message.slice(error.field.length + 2)}`;
			throw new NodeOperationError(ctx.getNode(), message, {
				itemIndex,
				description: `Field: ${fieldLabel(error.field)}`,
			});
		}
		throw new NodeOperationError(ctx.getNode(), error as Error, { itemIndex });
	}
}
