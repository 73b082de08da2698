/**
 * Spend budgets: a limit in dollars per execution, day or month, for one workflow or for
 * every workflow that names the same budget. Before a call goes out its worst cost (the
 * prompt's tokens at the tier's input price, plus Max Output Tokens at its output price) is
 * reserved in the state store (state/budgetRules.ts), shared by every execution and worker;
 * a call that does not fit is not made and the next tier, perhaps a cheaper one, is tried.
 * After the call its actual cost replaces the reservation.
 *
 * A gate around the pace's (BudgetGate): the budget first, then the pace, then the breaker.
 */
import { randomUUID } from 'node:crypto';

import type { Clock } from '../../clock/clock';
import { realClock } from '../../clock/clock';
import { StoreGuard } from '../../state/storeGuard';
import type {
	BudgetLabel,
	BudgetReservation,
	BudgetSnapshot,
	BudgetStore,
} from '../../state/types';
import type { CallGate, CallVerdict, GatedCall, Passage, PassOptions } from '../breaker/callGate';
import { ConfigError } from '../configError';
import type { Deadline } from '../deadline';
import { usd } from '../pricing';
import type { BudgetState, Price, TokenUsage } from '../types';

export type BudgetPeriod = 'execution' | 'day' | 'month';

export interface BudgetSettings {
	/** Shared by every workflow that names it; none: the workflow's own budget. */
	name?: string;
	workflowId: string;
	/** How people know the workflow, for its own budget's name in reasons and alerts. */
	workflowName?: string;
	limitUsd: number;
	period: BudgetPeriod;
	/** IANA name: where a day or a month begins. */
	timeZone: string;
	executionId: string;
}

const DAY_MS = 86_400_000;

/**
 * How long a period's row outlives its last write: longer than the period itself (a day of
 * 25 hours when clocks change). An execution may wait days for a person (Human Review).
 */
const ROW_TTL_MS: Record<BudgetPeriod, number> = {
	execution: 30 * DAY_MS,
	day: 2 * DAY_MS,
	month: 32 * DAY_MS,
};

/** How long a hold outlives its task's deadline: a worker that died frees it after that. */
const HOLD_SLACK_MS = 60_000;

const PERIOD_WORDS: Record<BudgetPeriod, string> = {
	execution: 'in this execution',
	day: 'today',
	month: 'this month',
};

/** Whether `timeZone` is one Intl knows (an IANA name such as Europe/Berlin, or UTC). */
export function isTimeZone(timeZone: string): boolean {
	try {
		new Intl.DateTimeFormat('en-US', { timeZone });
		return timeZone.trim() !== '';
	} catch {
		return false;
	}
}

/** The period an instant falls in: `2026-01-05` for a day, `2026-01` for a month, in the zone. */
export function calendarKey(period: 'day' | 'month', timeZone: string, epochMs: number): string {
	const parts = new Intl.DateTimeFormat('en-US', {
		timeZone,
		year: 'numeric',
		month: '2-digit',
		day: '2-digit',
	}).formatToParts(new Date(epochMs));
	const part = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
	const month = `${part('year')}-${part('month')}`;
	return period === 'month' ? month : `${month}-${part('day')}`;
}

/** A call's cost in micro-dollars: tokens times USD per million tokens. */
function micros(inputTokens: number, outputTokens: number, price: Price | undefined): number {
	if (!price) return 0;
	return inputTokens * price.inputPerMTok + outputTokens * price.outputPerMTok;
}

/** A reservation made: the period it was made in, to settle in the same one. */
interface Hold {
	id: string;
	period: string;
	periodName: string;
	/** The worst cost reserved. */
	micros: number;
}

type Place =
	| { kind: 'go'; hold?: Hold }
	| { kind: 'deadline' }
	| { kind: 'over_budget'; detail: string };

export class SpendBudget {
	/** The store's key: shared by name, or the workflow's own. */
	readonly key: string;
	readonly name: string;
	private readonly capMicros: number;

	constructor(
		private readonly settings: BudgetSettings,
		private readonly store: BudgetStore,
		private readonly clock: Clock = realClock,
		private readonly guard: StoreGuard = new StoreGuard(),
	) {
		const { limitUsd, timeZone, period } = settings;
		if (typeof limitUsd !== 'number' || !Number.isFinite(limitUsd) || limitUsd <= 0)
			throw new ConfigError('budget.limitUsd', `must be a positive number, got ${limitUsd}`);
		if (!(period in ROW_TTL_MS))
			throw new ConfigError('budget.period', `must be execution, day or month, got ${period}`);
		if (!isTimeZone(timeZone))
			throw new ConfigError(
				'budget.timeZone',
				`"${timeZone}" is not a time zone: use an IANA name such as Europe/Berlin or UTC`,
			);
		const name = settings.name?.trim();
		this.key = name ? `name:${name}` : `workflow:${settings.workflowId}`;
		this.name = name || `workflow ${settings.workflowName || settings.workflowId}`;
		this.capMicros = Math.round(limitUsd * 1e6);
	}

	/** The period now: its key in the store, and its name for people (`day 2026-01-05`). */
	private periodNow(): { period: string; periodName: string } {
		const { period, timeZone, executionId } = this.settings;
		const key =
			period === 'execution' ? executionId : calendarKey(period, timeZone, this.clock.epochMs());
		return { period: key, periodName: `${period} ${key}` };
	}

	/** How the budget names itself in the store's registry, for the Resilience Alert. */
	private labelOf(periodName: string): BudgetLabel {
		const own = !this.settings.name?.trim();
		return {
			name: this.name,
			periodName,
			...(own ? { workflowId: this.settings.workflowId } : {}),
		};
	}

	/** The budget as a task result shows it. */
	stateOf(snapshot: BudgetSnapshot, periodName: string): BudgetState {
		return {
			name: this.name,
			period: periodName,
			limitUsd: this.settings.limitUsd,
			spentUsd: snapshot.spentMicros / 1e6,
			remainingUsd: snapshot.remainingMicros / 1e6,
		};
	}

	/**
	 * Reserves the call's worst cost. A call with no price goes without reserving. A store
	 * that fails lets the call go outside the budget, or fails the item, as the guard says.
	 */
	async reserve(deadline: Deadline, options: PassOptions): Promise<Place> {
		const worst = Math.ceil(
			micros(options.tokens ?? 0, options.maxOutputTokens ?? 0, options.price),
		);
		if (worst <= 0) return { kind: 'go' };
		const { period, periodName } = this.periodNow();
		const request = {
			id: randomUUID(),
			micros: worst,
			capMicros: this.capMicros,
			leaseMs: Math.max(0, deadline.remainingMs()) + HOLD_SLACK_MS,
			label: this.labelOf(periodName),
		};
		const asking = this.guard.before<BudgetReservation | undefined>(
			'checking the spend budget',
			() =>
				this.store.reserveBudget(
					this.key,
					period,
					request,
					ROW_TTL_MS[this.settings.period],
					this.clock.epochMs(),
				),
			undefined,
		);
		const asked = await deadline.race(asking);
		if (!asked) {
			// A hold granted after the task gave up is freed, not left to its lease.
			const hold = { id: request.id, period, periodName, micros: worst };
			void asking
				.then((late) =>
					late.value?.reserved
						? this.settle(hold, undefined, { ...options, onBudget: undefined })
						: undefined,
				)
				.catch(() => undefined);
			return { kind: 'deadline' };
		}
		if (asked.degraded || !asked.value) {
			options.onDegraded(asked.degraded ?? 'checking the spend budget failed');
			return { kind: 'go' };
		}
		const reservation = asked.value;
		options.onBudget?.(this.stateOf(reservation, periodName));
		if (!reservation.reserved) return { kind: 'over_budget', detail: this.detail(reservation) };
		return { kind: 'go', hold: { id: request.id, period, periodName, micros: worst } };
	}

	/** "$0.99 of $1.00 spent today", and what calls in flight hold, if any. */
	private detail(snapshot: BudgetSnapshot): string {
		const spent = `${usd(snapshot.spentMicros / 1e6)} of ${usd(this.settings.limitUsd)} spent ${PERIOD_WORDS[this.settings.period]}`;
		return snapshot.heldMicros > 0
			? `${spent}, ${usd(snapshot.heldMicros / 1e6)} held by calls in flight`
			: spent;
	}

	/**
	 * Replaces the call's reservation with its actual cost. Best effort: a write that fails
	 * marks the item degraded (the hold lapses with its lease). Returns why, if it failed.
	 */
	async settle(
		hold: Hold,
		usage: TokenUsage | undefined,
		options: PassOptions,
		mayHaveBilled = false, // cut off with no usage: the provider may have worked on it
	): Promise<string | undefined> {
		const billed = usage && micros(usage.inputTokens, usage.outputTokens, options.price);
		const actualMicros = usage ? Math.round(billed ?? 0) : mayHaveBilled ? hold.micros : 0;
		return this.guard.after('recording the spend', async () => {
			const snapshot = await this.store.settleBudget(
				this.key,
				hold.period,
				{
					id: hold.id,
					actualMicros,
					capMicros: this.capMicros,
					label: this.labelOf(hold.periodName),
				},
				ROW_TTL_MS[this.settings.period],
				this.clock.epochMs(),
			);
			options.onBudget?.(this.stateOf(snapshot, hold.periodName));
		});
	}
}

/** What a call's result tells the budget: the tokens it was billed for. */
interface BudgetedVerdict extends CallVerdict {
	usage?: TokenUsage;
}

/** The pace's gate (or the breaker's) with the spend budget in front of it. */
export class BudgetGate implements CallGate {
	constructor(
		private readonly inner: CallGate,
		private readonly budget: SpendBudget,
	) {}

	async pass<T extends CallVerdict>(
		circuit: string,
		deadline: Deadline,
		options: PassOptions,
		call: GatedCall<T>,
	): Promise<Passage<T>> {
		const place = await this.budget.reserve(deadline, options);
		if (place.kind !== 'go') return place;
		if (!place.hold) return this.inner.pass(circuit, deadline, options, call);
		let passage: Passage<T> | undefined;
		try {
			passage = await this.inner.pass(circuit, deadline, options, call);
			return passage;
		} finally {
			const result = passage?.kind === 'called' ? (passage.result as BudgetedVerdict) : undefined;
			// Not raced with the deadline: money spent is counted even when time ran out. A call
			// cut off with no usage (a timeout, a dropped connection) counts at its worst cost.
			const cutOff = ['timeout', 'connection'].includes(result?.failure?.errorClass ?? '');
			const unrecorded = await this.budget.settle(
				place.hold,
				result?.usage,
				options,
				!result?.usage && cutOff,
			);
			if (unrecorded) options.onDegraded(unrecorded);
		}
	}

	openedBy: CallGate['openedBy'] = (...args) => this.inner.openedBy(...args);

	describeOpen: CallGate['describeOpen'] = (...args) => this.inner.describeOpen(...args);
}
