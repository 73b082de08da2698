/**
 * State shared across executions (and, with a shared store, across n8n workers): the
 * idempotency record of each task, the state of each circuit breaker and the task counters
 * for alerts.
 * Every operation is atomic in every implementation: no read-then-write races.
 */

import type {
	BudgetRequest,
	BudgetReservation,
	BudgetSettlement,
	BudgetSnapshot,
} from './budgetRules';
import type { BudgetLabel, BudgetUse } from './budgetRegistry';
import type { PaceOutcome, PaceRequest, PaceSnapshot } from './paceTypes';

export type {
	BudgetRequest,
	BudgetReservation,
	BudgetSettlement,
	BudgetSnapshot,
} from './budgetRules';
export type { BudgetLabel, BudgetUse } from './budgetRegistry';
export type { PaceLimit, PaceOutcome, PaceRequest, PaceSnapshot } from './paceTypes';

export type IdempotencyClaim =
	/** The caller owns the key until its lease ends, and must complete or release it. */
	| { status: 'claimed' }
	/** Done before: here is the stored result. */
	| { status: 'done'; result: string }
	/** Someone else is working on it; their lease ends at `leaseUntil` (ms since epoch). */
	| { status: 'busy'; leaseUntil: number };

/**
 * What the breaker lets through right now: a call, the one call that tests the circuit, no
 * call, or no call yet because such a test call is in flight.
 */
export type Admission = 'allow' | 'probe' | 'open' | 'wait';

export interface BreakerPolicy {
	/** Consecutive transient failures that open the circuit. */
	failureThreshold: number;
	/** How long an opened circuit skips the tier before one probe goes through. */
	openMs: number;
	/** How long quota and auth failures open it: they do not clear in seconds. */
	longOpenMs: number;
	/** How long a probe may take before another caller may probe instead. */
	probeLeaseMs: number;
	/**
	 * Also open when at least this share (0..1) of the calls in one window failed, so a
	 * provider failing every other call is caught too. 0 turns this off.
	 */
	failureRate: number;
	/** The window the failure rate is counted over. */
	rateWindowMs: number;
	/** A window with fewer calls than this never opens the circuit by rate. */
	rateMinCalls: number;
}

export interface BreakerSnapshot {
	state: 'closed' | 'open' | 'half_open';
	failures: number;
	openUntil: number;
}

/** What one minute (or a window of minutes) of one workflow's tasks came to. */
export interface Counters {
	tasks: number;
	/** Answers per tier: index 0 is tier 1; the last slot counts tier 4 and below. */
	answeredByTier: [number, number, number, number];
	escalated: number;
	costUsd: number;
	/** What each model cost, by `provider/model`, in US dollars; none when nothing was priced. */
	costByModel?: Record<string, number>;
	/** The workflow's name when its tasks were counted, for people reading an alert. */
	workflowName?: string;
}

export function emptyCounters(): Counters {
	return { tasks: 0, answeredByTier: [0, 0, 0, 0], escalated: 0, costUsd: 0 };
}

/** Runs a task at most once per key (see idempotency.ts); also the Human Review's decision claims. */
export interface IdempotencyStore {
	claim(key: string, owner: string, leaseMs: number, now?: number): Promise<IdempotencyClaim>;
	/**
	 * Extends the owner's lease to `now + leaseMs` while it still works. False once the key is
	 * no longer its own: another caller took it over, or an answer is stored.
	 */
	renew(key: string, owner: string, leaseMs: number, now?: number): Promise<boolean>;
	/**
	 * Stores the answer unless one is stored already, whoever holds the lease: an answer that
	 * was paid for is kept even when its owner's lease lapsed while it worked.
	 */
	complete(key: string, owner: string, result: string, ttlMs: number, now?: number): Promise<void>;
	/** Gives the key up without a result (the task failed), so a later run may try again. */
	release(key: string, owner: string): Promise<void>;
}

/**
 * What a call says about its circuit: it worked, it failed in passing (429, 5xx, timeouts),
 * it failed in a way that lasts (quota, auth), or, for a test call stopped before it got an
 * answer, nothing: its lease is released for the next caller.
 */
export type BreakerOutcome = 'success' | 'transient' | 'hard' | 'released';

/** The state of each circuit breaker. */
export interface BreakerStore {
	admit(circuit: string, policy: BreakerPolicy, now?: number): Promise<Admission>;
	/** 'transient' counts toward the threshold; 'hard' opens for longOpenMs at once. */
	record(
		circuit: string,
		outcome: BreakerOutcome,
		policy: BreakerPolicy,
		now?: number,
	): Promise<void>;
	snapshot(circuit: string, now?: number): Promise<BreakerSnapshot>;
	/**
	 * Circuits that are open now: still cooling down, or with a probe in flight. One whose
	 * cool-down has passed with no probe since is not listed: nothing is known to be down.
	 */
	openCircuits(now?: number): Promise<string[]>;
}

/** How one task ended, as the alert counters see it. */
export interface TaskOutcome {
	tier?: number;
	escalated: boolean;
	costUsd: number;
	/** What each model's calls cost, by `provider/model`, in US dollars. */
	costByModel?: Record<string, number>;
	workflowName?: string;
}

/** Counts of one workflow's tasks within one minute, ready to be added to the store's. */
export interface MinuteCounts {
	workflowId: string;
	/** Minutes since the epoch. */
	minute: number;
	tasks: number;
	/** As in Counters: index 0 is tier 1; the last slot counts tier 4 and below. */
	answeredByTier: [number, number, number, number];
	escalated: number;
	/** Whole millionths of a dollar, so that sums are exact. */
	costMicros: number;
	/** costMicros per `provider/model` (whole millionths); models that cost nothing left out. */
	costByModel?: Record<string, number>;
	workflowName?: string;
}

/** Each model's cost in whole micro-dollars, leaving out those that cost nothing. */
export function microsByModel(
	costByModel: Record<string, number> | undefined,
): Record<string, number> {
	const micros: Record<string, number> = {};
	for (const [model, usd] of Object.entries(costByModel ?? {})) {
		const m = Math.round(usd * 1e6);
		if (Number.isFinite(m) && m > 0) micros[model] = m;
	}
	return micros;
}

/** One task as MinuteCounts: the one place a task's outcome picks its tier slot. */
export function countsOfTask(workflowId: string, outcome: TaskOutcome, now: number): MinuteCounts {
	const slot =
		outcome.escalated || outcome.tier === undefined ? -1 : Math.min(4, Math.max(1, outcome.tier));
	return {
		workflowId,
		minute: Math.floor(now / 60_000),
		tasks: 1,
		answeredByTier: [1, 2, 3, 4].map((n) => (slot === n ? 1 : 0)) as MinuteCounts['answeredByTier'],
		escalated: outcome.escalated ? 1 : 0,
		costMicros: Math.round(outcome.costUsd * 1e6),
		...(outcome.costByModel ? { costByModel: microsByModel(outcome.costByModel) } : {}),
		...(outcome.workflowName ? { workflowName: outcome.workflowName } : {}),
	};
}

/** The task counters the Resilience Alert trigger reads. */
export interface CounterStore {
	/** Adds one finished task to its workflow's counters for the minute it finished in. */
	countTask(workflowId: string, outcome: TaskOutcome, now?: number): Promise<void>;
	/**
	 * Adds counts already summed per workflow and minute, in one write: all of them or none.
	 * The same write sent again with the same `writeId` (after a failure that may have come
	 * after the write was done) is added once.
	 */
	addCounts(counts: MinuteCounts[], now?: number, writeId?: string): Promise<void>;
	/** Totals per workflow over [fromMs, toMs). */
	readCounters(fromMs: number, toMs: number): Promise<Map<string, Counters>>;
}

/**
 * Each circuit's pace (pacingRules.ts): the headroom its provider's rate limits leave, its
 * window of calls in flight, and a hold after a 429.
 */
export interface PacingStore {
	/** 0 when the call may go now (its place taken), else the ms to wait before asking again. */
	acquirePace(circuit: string, request: PaceRequest, now?: number): Promise<number>;
	/** Frees the call's place and learns from how it ended. */
	settlePace(circuit: string, outcome: PaceOutcome, now?: number): Promise<void>;
	paceSnapshot(circuit: string, now?: number): Promise<PaceSnapshot>;
}

/**
 * Spend budgets (budgetRules.ts): one row per budget and period, what was spent and what
 * calls in flight hold. `ttlMs`: how long the row outlives its last write, so a period's row
 * goes some time after the period ends. A call that brings the budget's `label` also enters
 * the budget in the registry (budgetRegistry.ts) in the same write, for the Resilience Alert.
 */
export interface BudgetStore {
	/** Reserves the call's worst cost if it fits under the cap; the budget as it then stands. */
	reserveBudget(
		budget: string,
		period: string,
		request: BudgetRequest & { label?: BudgetLabel },
		ttlMs: number,
		now?: number,
	): Promise<BudgetReservation>;
	/** Frees the call's hold and adds its actual cost; the budget as it then stands. */
	settleBudget(
		budget: string,
		period: string,
		settlement: BudgetSettlement & { capMicros: number; label?: BudgetLabel },
		ttlMs: number,
		now?: number,
	): Promise<BudgetSnapshot>;
	budgetSnapshot(
		budget: string,
		period: string,
		capMicros: number,
		now?: number,
	): Promise<BudgetSnapshot>;
	/** Every budget with a period not yet expired that a call settled in, or was turned away from. */
	listBudgets(now?: number): Promise<BudgetUse[]>;
	/**
	 * Marks `mark` (a threshold of a budget's period) as announced to `consumer`: true the
	 * first time, false ever after, until the budget's period row expires (`ttlMs`).
	 */
	markBudgetAnnounced(
		consumer: string,
		budget: string,
		period: string,
		mark: string,
		ttlMs: number,
		now?: number,
	): Promise<boolean>;
}

/** Every store keeps all five kinds of state; each caller takes only the part it uses. */
export interface StateStore
	extends IdempotencyStore,
		BreakerStore,
		CounterStore,
		PacingStore,
		BudgetStore {
	close(): Promise<void>;
}

/**
 * The state store could not do what was asked (Redis unreachable, a broken or locked file).
 * Raised by the callers that decide what that means for the item (storeGuard.ts).
 */
export class StateStoreUnavailableError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'StateStoreUnavailableError';
	}
}
