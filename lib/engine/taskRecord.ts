/**
 * What one task run did: every try and skip (AttemptRecord), each tier's summary, why shared
 * state was degraded, and the result made of them. Observability plugs in from outside
 * through ChainEvents: the engine never logs.
 */
import type { Clock } from '../clock/clock';
import type { AttemptOutcome } from './attempt';
import type { PreparedTier } from './preparedTier';
import { PRICE_TABLE, costUsd } from './pricing';
import { OVER_BUDGET, explain, reasonOf } from './reasonText';
import type {
	AttemptRecord,
	BudgetState,
	ChainConfig,
	NeedsHumanReason,
	TaskResult,
	TierSummary,
	TokenUsage,
} from './types';

export interface ChainEvents {
	onAttempt?(record: AttemptRecord): void;
	onResult?(result: TaskResult): void;
}

export class TaskRecord {
	readonly attempts: AttemptRecord[] = [];
	private readonly tiers: TierSummary[] = [];
	/** Why shared state could not be used or written for this task, if it could not. */
	private readonly degraded = new Set<string>();
	/** Connected models that used tokens with no price known for them. */
	private readonly unpriced = new Set<string>();
	/** The spend budget as its latest reservation or settlement left it. */
	private budget?: BudgetState;

	constructor(
		private readonly clock: Clock,
		/** When the task started, on `clock`. */
		private readonly started: number,
		private readonly events: ChainEvents,
		private readonly drill: ChainConfig['drill'],
	) {}

	degrade(reason: string): void {
		this.degraded.add(reason);
	}

	budgetNow(state: BudgetState): void {
		this.budget = state;
	}

	/** A tier about to be called: its summary, filled in as its tries go. */
	tierStarted(tier: PreparedTier): TierSummary {
		const summary: TierSummary = {
			tier: tier.index + 1,
			...whoAnswers(tier),
			attempts: 0,
			latencyMs: 0,
			waitedMs: 0,
			costUsd: 0,
		};
		this.tiers.push(summary);
		return summary;
	}

	/** A tier (or one try of it) passed over without a call. */
	skipped(tier: PreparedTier, attempt: number, message: string, detail?: string): void {
		this.decided(
			this.add({
				tier: tier.index + 1,
				attempt,
				...keyOf(tier),
				...whoAnswers(tier),
				status: 'skipped',
				latencyMs: 0,
				waitedMs: 0,
				costUsd: 0,
				decision: 'next_tier',
				message,
				...(detail ? { detail } : {}),
			}),
		);
	}

	/** A call made: its record, with no decision yet. */
	tried(
		tier: PreparedTier,
		attempt: number,
		outcome: AttemptOutcome,
		summary: TierSummary,
	): AttemptRecord {
		const record = this.add({
			tier: tier.index + 1,
			attempt,
			...keyOf(tier),
			...whoAnswers(tier),
			status: outcome.failure ? 'failed' : 'ok',
			latencyMs: Math.round(outcome.latencyMs * 100) / 100,
			waitedMs: 0,
			usage: outcome.usage,
			costUsd: costUsd(outcome.usage, tier.price),
		});
		summary.attempts++;
		if (tier.key) summary.key = tier.key;
		summary.costUsd += record.costUsd;
		const tokens = (outcome.usage?.inputTokens ?? 0) + (outcome.usage?.outputTokens ?? 0);
		if (!tier.price && tier.config.connected && tokens > 0) this.unpriced.add(tier.config.model);
		if (outcome.streamed) {
			record.streamed = true;
			record.sentChars = outcome.sentText?.length ?? 0;
			if (outcome.firstTokenMs !== undefined) {
				record.firstTokenMs = outcome.firstTokenMs;
				summary.firstTokenMs = outcome.firstTokenMs;
			}
		}
		const failure = outcome.failure;
		if (!failure) {
			record.requestId = outcome.response?.requestId;
			record.httpStatus = 200;
			return record;
		}
		record.errorClass = failure.errorClass;
		record.httpStatus = failure.httpStatus;
		record.requestId = failure.requestId;
		record.message = failure.message;
		return record;
	}

	/** What the engine did after a try (a skip has its decision already); tells the observer. */
	decided(record: AttemptRecord, decision?: AttemptRecord['decision']): void {
		if (decision) record.decision = decision;
		this.events.onAttempt?.(record);
	}

	/** The task's result when a tier answered; a streamed run's text may continue a broken stream. */
	answered(
		tier: PreparedTier,
		outcome: AttemptOutcome,
		streamedText?: Pick<TaskResult, 'text' | 'continuedFrom' | 'firstTokenMs'>,
	): TaskResult {
		const response = outcome.response;
		const text = streamedText ?? { text: response?.text };
		return this.finish({
			outcome: 'answered',
			reasonText:
				tier.index === 0
					? 'answered by the first tier'
					: `answered by tier ${tier.index + 1} after failover`,
			...text,
			...(response?.toolCalls?.length ? { toolCalls: response.toolCalls } : {}),
			...(outcome.json !== undefined ? { json: outcome.json } : {}),
			tier: tier.index + 1,
			...whoAnswers(tier),
		});
	}

	/** The task's result when no tier answered: it needs a human, and says why. */
	gaveUp(
		stop: NeedsHumanReason | undefined,
		skips: { degradeBlocked: boolean; contextSkipped: boolean },
		cancelled: boolean,
		deadlineMs: number,
	): TaskResult {
		const failed = this.attempts.filter((a) => a.status === 'failed');
		const last = failed[failed.length - 1];
		if (last) last.decision = 'stop';
		const overBudget = this.attempts.some((a) => a.message === OVER_BUDGET);
		const reason = reasonOf(stop, { ...skips, overBudget }, last);
		return this.finish({
			outcome: 'needs_human',
			reason,
			reasonText: explain(reason, this.attempts, cancelled, deadlineMs, this.budget),
		});
	}

	private add(record: AttemptRecord): AttemptRecord {
		this.attempts.push(record);
		return record;
	}

	private finish(
		fields: Pick<TaskResult, 'outcome' | 'reasonText'> & Partial<TaskResult>,
	): TaskResult {
		const usage: TokenUsage = { inputTokens: 0, outputTokens: 0 };
		let total = 0;
		for (const attempt of this.attempts) {
			usage.inputTokens += attempt.usage?.inputTokens ?? 0;
			usage.outputTokens += attempt.usage?.outputTokens ?? 0;
			total += attempt.costUsd;
		}
		for (const tier of this.tiers) tier.costUsd = Math.round(tier.costUsd * 1e10) / 1e10;
		const result: TaskResult = {
			...fields,
			attempts: this.attempts,
			tiers: this.tiers,
			latencyMs: Math.round(this.clock.now() - this.started),
			usage,
			costUsd: Math.round(total * 1e10) / 1e10,
			priceTableVersion: PRICE_TABLE.version,
			...(this.drill && this.drill !== 'off' ? { drill: this.drill } : {}),
			...(this.degraded.size > 0 ? { degraded: [...this.degraded].join('; ') } : {}),
			...(this.unpriced.size > 0 ? { unpricedModels: [...this.unpriced] } : {}),
			...(this.budget ? { budget: { ...this.budget } } : {}),
		};
		this.events.onResult?.(result);
		return result;
	}
}

/** Which key of its tier's pool a try used, by position: never the key itself. */
function keyOf(tier: PreparedTier): Pick<AttemptRecord, 'key'> {
	return tier.key ? { key: tier.key } : {};
}

/** Who a tier calls, as records name it: a connected tier also by its node's name. */
function whoAnswers(tier: PreparedTier): Pick<AttemptRecord, 'provider' | 'model' | 'node'> {
	const { provider, model, connected } = tier.config;
	return { provider, model, ...(connected ? { node: connected.node } : {}) };
}
