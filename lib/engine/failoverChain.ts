/**
 * Runs one task (one prompt, or one turn of a conversation with tools) through an ordered
 * chain of model tiers, as a composition of small policies: the tier filters pass tiers over
 * (tierFilters.ts), the gates let each call out (budget, pace, breaker), a tier with a key
 * pool sends each try to its key with the most headroom (limits/keyPool.ts), the retry policy
 * decides after each failed try (retryPolicy.ts), and a try is one timed or streamed call
 * (tierCall.ts); a stream that broke is continued by the next try (streamedText.ts). What
 * happened goes into the task's record (taskRecord.ts).
 */
import type { Clock } from '../clock/clock';
import { realClock } from '../clock/clock';
import type { CompletionRequest } from '../providers/types';
import type { AttemptContext, AttemptOutcome } from './attempt';
import { backoffOf } from './backoff';
import { NO_BREAKER } from './breaker/callGate';
import type { CallGate, PassOptions } from './breaker/callGate';
import type { CircuitBreaker } from './breaker/circuitBreaker';
import { Deadline } from './deadline';
import { CHAIN_DEFAULTS } from './defaults';
import { buildJsonParser } from './jsonOutput';
import { prepareTiers } from './preparedTier';
import type { AdapterFor, PreparedTier } from './preparedTier';
import { BudgetGate } from './limits/budget';
import type { SpendBudget } from './limits/budget';
import { passedOver, passOptionsOf, skipOpen } from './gatePassage';
import { KEY_FAILURES, KeyPool, passTier } from './limits/keyPool';
import { PacedGate } from './limits/ratePacer';
import type { RatePacer } from './limits/ratePacer';
import { RetryPolicy } from './retryPolicy';
import { StreamedText } from './streamedText';
import { tierCall } from './tierCall';
import { TaskRecord } from './taskRecord';
import type { ChainEvents } from './taskRecord';
import { messagesOf, validateTask } from './taskMessages';
import { belowContextFloor, degradeBlocked, raiseContextFloor } from './tierFilters';
import type {
	AttemptRecord,
	ChainConfig,
	ClassifiedFailure,
	NeedsHumanReason,
	Task,
	TaskResult,
	TierSummary,
} from './types';
import { validateChain } from './validateChain';

export type { ChainEvents } from './taskRecord';

export const DEFAULTS = CHAIN_DEFAULTS;

export interface RunOptions {
	/** The execution was stopped: the run ends at once, needing a human. */
	signal?: AbortSignal;
	/**
	 * The answer's text as it arrives: the calls are streamed. Failures before a call's first
	 * text are retried and failed over unseen; a stream that breaks after it is continued by
	 * the next try. With JSON output only the checked whole answer is sent, once.
	 */
	onText?: (delta: string) => void;
}

export interface ChainDependencies {
	adapterFor?: AdapterFor;
	random?: () => number;
	events?: ChainEvents;
	/** Shared knowledge of which providers are down; skipped during drills. */
	breaker?: CircuitBreaker;
	/** Where deadlines, waits and latencies are measured; the real clock unless a test says so. */
	clock?: Clock;
	/** Pacing by the providers' rate limits, shared like the breaker; skipped during drills. */
	pacer?: RatePacer;
	/** A spend budget every call reserves its worst cost in; skipped during drills (no spend). */
	budget?: SpendBudget;
}

/** One tier's run in one task: where its tries are recorded, and the keys that failed on their own. */
interface TierRun {
	tier: PreparedTier;
	deadline: Deadline;
	record: TaskRecord;
	summary: TierSummary;
	/** Members of its key pool that failed on a failure of their own key: the others go first. */
	failed: Set<PreparedTier>;
}

/** How one tier's tries ended when it did not answer. */
interface TierGiveUp {
	/** The task's time is up: no further tier is tried. */
	outOfTime?: boolean;
	/** The failure the tier gave up on, if it gave up on one. */
	failure?: AttemptOutcome['failure'];
}

/**
 * A chain of model tiers. Built once per configuration and reused for many tasks: adapters
 * and SDK clients are made here.
 */
export class FailoverChain {
	private readonly tiers: PreparedTier[];
	/** Per tier, its key pool when it has one. */
	private readonly pools: (KeyPool | undefined)[];
	private readonly retry: RetryPolicy;
	private readonly gate: CallGate;
	private readonly deadlineMs: number;
	private readonly clock: Clock;
	private readonly events: ChainEvents;
	private readonly attemptContext: AttemptContext;

	constructor(
		private readonly config: ChainConfig,
		dependencies: ChainDependencies = {},
	) {
		validateChain(config);
		const drill = config.drill && config.drill !== 'off';
		this.retry = new RetryPolicy(backoffOf(config.backoff), dependencies.random ?? Math.random);
		// A drill must not teach the shared breaker that a provider is down.
		// Outermost first: the budget, then the pace, then the breaker, then the call.
		let gate: CallGate = (!drill && dependencies.breaker) || NO_BREAKER;
		if (!drill && dependencies.pacer) gate = new PacedGate(gate, dependencies.pacer);
		if (!drill && dependencies.budget) gate = new BudgetGate(gate, dependencies.budget);
		this.gate = gate;
		this.deadlineMs = config.deadlineMs ?? DEFAULTS.deadlineMs;
		this.clock = dependencies.clock ?? realClock;
		this.events = dependencies.events ?? {};
		const wantsJson = Boolean(config.output?.json || config.output?.jsonSchema);
		this.attemptContext = {
			clock: this.clock,
			outputCheck: {
				requireComplete: config.output?.requireComplete ?? true,
				parseJson: wantsJson ? buildJsonParser(config.output?.jsonSchema) : undefined,
			},
			secrets: config.tiers
				.flatMap((t) => [t.apiKey ?? '', ...(t.poolKeys ?? [])])
				.filter((k) => k.length > 0),
		};
		this.tiers = prepareTiers(config, dependencies.adapterFor);
		const sources = drill ? {} : { breaker: dependencies.breaker, pacer: dependencies.pacer };
		this.pools = this.tiers.map((t) => (t.pool ? new KeyPool(t.pool, sources) : undefined));
	}

	/** Tier by tier, past the filters, until one answers or the task needs a human. */
	async run(task: Task, options: RunOptions = {}): Promise<TaskResult> {
		validateTask(task);
		const wantsJson = this.attemptContext.outputCheck.parseJson !== undefined;
		const started = this.clock.now();
		const elapsed = () => this.clock.now() - started;
		const streamed = options.onText
			? new StreamedText(options.onText, !wantsJson, elapsed)
			: undefined;
		const deadline = new Deadline(this.clock, started + this.deadlineMs, options.signal);
		const record = new TaskRecord(this.clock, started, this.events, this.config.drill);
		const request = this.requestFor(task);
		const skips = { degradeBlocked: false, contextSkipped: false };
		let contextFloor: number | undefined;
		let stop: NeedsHumanReason | undefined;
		for (const tier of this.tiers) {
			if (degradeBlocked(this.config.criticality, tier, this.tiers[0])) {
				skips.degradeBlocked = true;
				continue;
			}
			const tooSmall = belowContextFloor(tier, contextFloor);
			if (tooSmall) {
				skips.contextSkipped = true;
				record.skipped(tier, 0, tooSmall);
				continue;
			}
			const end = await this.runTier(tier, request, deadline, record, streamed);
			if ('answered' in end) {
				const text = streamed?.answer(end.answered.response?.text);
				return record.answered(tier, end.answered, text);
			}
			contextFloor = raiseContextFloor(contextFloor, tier, end.failure?.errorClass);
			if (end.outOfTime) {
				stop = 'deadline_exceeded';
				break;
			}
		}
		const cancelled = options.signal?.aborted ?? false;
		return record.gaveUp(stop, skips, cancelled, this.deadlineMs);
	}

	/** One request for every tier: a failover carries the whole conversation, tool results included. */
	private requestFor(task: Task): CompletionRequest {
		const tools = task.tools ?? [];
		return {
			model: '',
			messages: messagesOf(task),
			...(tools.length > 0 ? { tools } : {}),
			maxOutputTokens: this.config.maxOutputTokens ?? DEFAULTS.maxOutputTokens,
			temperature: this.config.temperature,
			// A provider's JSON mode would forbid tool calls (Gemini rejects the pair); text answers are still checked.
			json: this.attemptContext.outputCheck.parseJson !== undefined && tools.length === 0,
		};
	}

	/** One tier's tries, each through the gates, as the retry policy allows. */
	private async runTier(
		tier: PreparedTier,
		request: CompletionRequest,
		deadline: Deadline,
		record: TaskRecord,
		streamed: StreamedText | undefined,
	): Promise<{ answered: AttemptOutcome } | TierGiveUp> {
		const summary = record.tierStarted(tier);
		const tierStarted = this.clock.now();
		request.model = tier.config.model;
		const at: TierRun = { tier, deadline, record, summary, failed: new Set() };
		const passOptions = passOptionsOf(tier, request, record, summary);
		passOptions.maxWaitMs = this.retry.backoff.maxHintMs;
		passOptions.lastTier = tier.index === this.tiers.length - 1;
		const end = await this.tryTier(at, request, passOptions, streamed);
		summary.latencyMs = Math.round(this.clock.now() - tierStarted);
		return end;
	}

	/** Tries until one answers, the tier gives up (retries used up, circuit open) or time is up. */
	private async tryTier(
		at: TierRun,
		request: CompletionRequest,
		passOptions: PassOptions,
		streamed: StreamedText | undefined,
	): Promise<{ answered: AttemptOutcome } | TierGiveUp> {
		const { tier, deadline, record } = at;
		const callFor = (member: PreparedTier) =>
			tierCall(member, request, deadline, streamed, this.attemptContext);
		const pool = this.pools[tier.index];
		for (let n = 1; n <= tier.attempts; n++) {
			if (deadline.isOver()) return { outOfTime: true };
			const { member, passage } = await passTier(
				pool,
				this.gate,
				tier,
				deadline,
				passOptions,
				callFor,
				at.failed,
			);
			if (passage.kind !== 'called')
				return passedOver(this.gate, passage, { tier: member, attempt: n, deadline, record });
			const outcome = passage.result;
			const tried = record.tried(member, n, outcome, at.summary);
			if (!outcome.failure) {
				record.decided(tried, 'stop');
				return { answered: outcome };
			}
			streamed?.failed(member, outcome);
			const next = await this.afterFailure(at, member, n, outcome, tried);
			if (next !== 'retry') return next;
		}
		return {};
	}

	/** After a failed try: another key of the pool at once, a retry after its wait, or the next tier. */
	private async afterFailure(
		at: TierRun,
		member: PreparedTier,
		n: number,
		outcome: AttemptOutcome,
		tried: AttemptRecord,
	): Promise<'retry' | TierGiveUp> {
		const { tier, deadline, record, summary } = at;
		const failure = outcome.failure as ClassifiedFailure;
		const pool = this.pools[tier.index];
		const switched = () => pool?.switchAfter(member, n, failure, at.failed, deadline);
		if (KEY_FAILURES.has(failure.errorClass) && (await switched())) {
			if (failure.retryHint) tried.retryHint = { ...failure.retryHint, used: false };
			record.decided(tried, 'retry');
			return 'retry';
		}
		const step = this.retry.afterFailure(failure, tried, {
			attempt: n,
			maxAttempts: tier.attempts,
			remainingMs: deadline.remainingMs(),
		});
		if (
			step.action === 'retry' &&
			(await this.gate.openedBy(member.circuit, failure.errorClass, deadline))
		) {
			// This key's circuit opened, by this failure or another task's: another key may still
			// answer at once; else waiting to retry would end in a skip.
			if (await switched()) {
				record.decided(tried, 'retry');
				return 'retry';
			}
			record.decided(tried, 'next_tier');
			await skipOpen(this.gate, { tier: member, attempt: n + 1, deadline, record });
			return {};
		}
		if (step.action === 'retry') {
			tried.waitedMs = step.waitMs;
			summary.waitedMs += step.waitMs;
			record.decided(tried, 'retry');
			await deadline.sleep(step.waitMs);
			return 'retry';
		}
		record.decided(tried, 'next_tier');
		return { failure, outOfTime: outcome.deadlineHit || deadline.remainingMs() <= 0 };
	}
}
