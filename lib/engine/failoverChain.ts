import { createAdapter } from '../providers';
import type { CompletionRequest, CompletionResponse, ProviderAdapter } from '../providers/types';
import type { AbortCause, OutputCheck } from './classifyError';
import { backoffOf } from './backoff';
import { CircuitBreaker, breakerOutcome } from './circuitBreaker';
import { classifyError, classifyOutput } from './classifyError';
import { realClock } from '../clock/clock';
import { messagesOf, validateTask } from './taskMessages';
import type { Clock } from '../clock/clock';
import { CHAIN_DEFAULTS } from './defaults';
import { drillAdapter, drillAffects } from './drill';
import { buildJsonParser } from './jsonOutput';
import { nextStep } from './nextStep';
import { PRICE_TABLE, costUsd, priceFor } from './pricing';
import type {
	AttemptRecord,
	BackoffConfig,
	ChainConfig,
	ClassifiedFailure,
	NeedsHumanReason,
	Price,
	Task,
	TaskResult,
	TierConfig,
	TierSummary,
	TokenUsage,
} from './types';
import { validateChain } from './validateChain';

export const DEFAULTS = CHAIN_DEFAULTS;

/** Observability plugs in from outside: the engine never logs. */
export interface ChainEvents {
	onAttempt?(record: AttemptRecord): void;
	onResult?(result: TaskResult): void;
}

export interface ChainDependencies {
	adapterFor?: (tier: TierConfig, index: number) => ProviderAdapter;
	random?: () => number;
	events?: ChainEvents;
	/** Shared knowledge of which providers are down; skipped during drills. */
	breaker?: CircuitBreaker;
	/** Where deadlines, waits and latencies are measured; the real clock unless a test says so. */
	clock?: Clock;
}

interface PreparedTier {
	config: TierConfig;
	/** Its circuit breaker's name: provider, model, endpoint and credential. */
	circuit: string;
	adapter: ProviderAdapter;
	attempts: number;
	timeoutMs: number;
	price: Price | undefined;
}

/** The longest pause between two looks at a circuit whose test call is in flight. */
const GATE_POLL_MAX_MS = 100;

/** Extra time the SDK's own timeout gets behind the engine's, so the engine's always fires first. */
const SDK_TIMEOUT_SLACK_MS = 1_000;

/**
 * Runs one task (one prompt, or one turn of a conversation with tools) through an ordered chain of model tiers: retries within a tier
 * as nextStep decides, fails over to the next tier, and ends answered or needing a human.
 * Built once per configuration and reused for many tasks: adapters and SDK clients are made here.
 */
export class FailoverChain {
	private readonly tiers: PreparedTier[];
	private readonly backoff: BackoffConfig;
	private readonly deadlineMs: number;
	private readonly outputCheck: OutputCheck;
	private readonly secrets: string[];
	private readonly random: () => number;
	private readonly events: ChainEvents;
	private readonly breaker: CircuitBreaker | undefined;
	private readonly clock: Clock;

	constructor(
		private readonly config: ChainConfig,
		dependencies: ChainDependencies = {},
	) {
		validateChain(config);
		this.backoff = backoffOf(config.backoff);
		const wantsJson = Boolean(config.output?.json || config.output?.jsonSchema);
		this.outputCheck = {
			requireComplete: config.output?.requireComplete ?? true,
			parseJson: wantsJson ? buildJsonParser(config.output?.jsonSchema) : undefined,
		};
		this.deadlineMs = config.deadlineMs ?? DEFAULTS.deadlineMs;
		this.random = dependencies.random ?? Math.random;
		this.clock = dependencies.clock ?? realClock;
		this.events = dependencies.events ?? {};
		// A drill must not teach the shared breaker that a provider is down.
		this.breaker = config.drill && config.drill !== 'off' ? undefined : dependencies.breaker;
		this.secrets = config.tiers.map((t) => t.apiKey ?? '').filter((k) => k.length > 0);
		this.tiers = config.tiers.map((tier, index) => {
			const timeoutMs = tier.timeoutMs ?? DEFAULTS.timeoutMs;
			return {
				config: tier,
				circuit: CircuitBreaker.circuitOf(tier),
				adapter:
					dependencies.adapterFor?.(tier, index) ??
					(config.drill && config.drill !== 'off' && drillAffects(config.drill, index)
						? drillAdapter(tier.provider, config.drill)
						: undefined) ??
					createAdapter(tier.provider, {
						apiKey: tier.apiKey,
						baseUrl: tier.baseUrl || undefined,
						timeoutMs: timeoutMs + SDK_TIMEOUT_SLACK_MS,
					}),
				attempts: tier.attempts ?? DEFAULTS.attempts,
				timeoutMs,
				price: priceFor(tier.provider, tier.model, tier.price),
			};
		});
	}

	async run(task: Task, options: { signal?: AbortSignal } = {}): Promise<TaskResult> {
		validateTask(task);
		const started = this.clock.now();
		const deadlineAt = started + this.deadlineMs;
		const attempts: AttemptRecord[] = [];
		const summaries: TierSummary[] = [];
		const tools = task.tools ?? [];
		// One request for every tier: a failover carries the whole conversation, tool results included.
		const request: CompletionRequest = {
			model: '',
			messages: messagesOf(task),
			...(tools.length > 0 ? { tools } : {}),
			maxOutputTokens: this.config.maxOutputTokens ?? DEFAULTS.maxOutputTokens,
			temperature: this.config.temperature,
			// A provider's JSON mode would forbid tool calls (Gemini rejects the pair); text answers are still checked.
			json: this.outputCheck.parseJson !== undefined && tools.length === 0,
		};
		const highStakes = this.config.criticality === 'high_stakes';
		const firstModel = this.tiers[0].config.model;
		let stopReason: NeedsHumanReason | undefined;
		let degradeBlocked = false;
		/** After context_too_long, only tiers with a larger declared window are worth a try. */
		let contextFloor: number | undefined;
		let contextSkipped = false;
		/** Why shared state could not be used or written for this task, if it could not. */
		const degraded = new Set<string>();

		for (let index = 0; index < this.tiers.length && !stopReason; index++) {
			const tier = this.tiers[index];
			const { provider, model } = tier.config;
			if (highStakes && index > 0 && model !== firstModel) {
				// A high-stakes task never answers from a different (weaker) model.
				degradeBlocked = true;
				continue;
			}
			if (
				contextFloor !== undefined &&
				tier.config.contextWindow !== undefined &&
				tier.config.contextWindow <= contextFloor
			) {
				contextSkipped = true;
				this.skip(
					attempts,
					index,
					0,
					`skipped: context window ${tier.config.contextWindow} is not larger than ${contextFloor}`,
				);
				continue;
			}
			const summary: TierSummary = {
				tier: index + 1,
				provider,
				model,
				attempts: 0,
				latencyMs: 0,
				waitedMs: 0,
				costUsd: 0,
			};
			summaries.push(summary);
			const tierStarted = this.clock.now();
			request.model = model;

			for (let attempt = 1; attempt <= tier.attempts; attempt++) {
				if (deadlineAt - this.clock.now() <= 0 || options.signal?.aborted) {
					stopReason = 'deadline_exceeded';
					break;
				}
				let probe = false;
				if (this.breaker) {
					const gate = await this.passGate(tier, deadlineAt, degraded, options.signal);
					if (gate === 'deadline') {
						stopReason = 'deadline_exceeded';
						break;
					}
					if (gate === 'open') {
						// Known to be down: no call, no wait, straight to the next tier.
						await this.skipOpen(attempts, index, attempt, tier.circuit);
						break;
					}
					probe = gate === 'probe';
				}
				// Measured after the gate: time spent there (and in the store) is the task's too.
				const remaining = deadlineAt - this.clock.now();
				if (remaining <= 0) {
					if (probe) await this.breaker?.release(tier.circuit);
					stopReason = 'deadline_exceeded';
					break;
				}
				const outcome = await this.attempt(tier, request, remaining, options.signal);
				// A stopped execution says nothing about the provider's health.
				const recording = outcome.cancelled
					? probe
						? this.breaker?.release(tier.circuit)
						: undefined
					: this.breaker?.record(tier.circuit, outcome.failure?.errorClass, probe);
				// Best effort, and not waited for past the deadline (the write goes on meanwhile).
				const unrecorded = recording ? await this.beforeDeadline(recording, deadlineAt) : undefined;
				if (unrecorded) degraded.add(unrecorded);
				const record: AttemptRecord = {
					tier: index + 1,
					attempt,
					provider,
					model,
					status: outcome.failure ? 'failed' : 'ok',
					latencyMs: Math.round(outcome.latencyMs * 100) / 100,
					waitedMs: 0,
					usage: outcome.usage,
					costUsd: costUsd(outcome.usage, tier.price),
				};
				attempts.push(record);
				summary.attempts++;
				summary.costUsd += record.costUsd;

				if (!outcome.failure) {
					record.requestId = outcome.response?.requestId;
					record.httpStatus = 200;
					record.decision = 'stop';
					this.events.onAttempt?.(record);
					summary.latencyMs = Math.round(this.clock.now() - tierStarted);
					const result = this.finish(started, attempts, summaries, degraded, {
						outcome: 'answered',
						reasonText:
							index === 0
								? 'answered by the first tier'
								: `answered by tier ${index + 1} after failover`,
						text: outcome.response?.text,
						...(outcome.response?.toolCalls?.length
							? { toolCalls: outcome.response.toolCalls }
							: {}),
						...(outcome.json !== undefined ? { json: outcome.json } : {}),
						tier: index + 1,
						provider,
						model,
					});
					return result;
				}

				const failure = outcome.failure;
				record.errorClass = failure.errorClass;
				record.httpStatus = failure.httpStatus;
				record.requestId = failure.requestId;
				record.message = failure.message;
				const step = nextStep(failure, {
					attempt,
					maxAttempts: tier.attempts,
					remainingMs: deadlineAt - this.clock.now(),
					backoff: this.backoff,
					random: this.random,
				});
				if (failure.retryHint) {
					record.retryHint = {
						...failure.retryHint,
						used: step.action === 'retry' && step.hintUsed,
					};
				}
				if (
					step.action === 'retry' &&
					breakerOutcome(failure.errorClass) !== undefined &&
					this.breaker &&
					(await this.beforeDeadline(this.breaker.isOpen(tier.circuit), deadlineAt))
				) {
					// This failure, or another task's, opened the circuit: waiting to retry would
					// end in a skip.
					record.decision = 'next_tier';
					this.events.onAttempt?.(record);
					await this.skipOpen(attempts, index, attempt + 1, tier.circuit);
					break;
				}
				if (step.action === 'retry') {
					record.decision = 'retry';
					record.waitedMs = step.waitMs;
					summary.waitedMs += step.waitMs;
					this.events.onAttempt?.(record);
					await this.clock.sleep(step.waitMs, options.signal);
					continue;
				}
				record.decision = 'next_tier';
				this.events.onAttempt?.(record);
				if (outcome.deadlineHit || deadlineAt - this.clock.now() <= 0)
					stopReason = 'deadline_exceeded';
				if (failure.errorClass === 'context_too_long') {
					contextFloor =
						Math.max(contextFloor ?? 0, tier.config.contextWindow ?? 0) || contextFloor;
				}
				break;
			}
			summary.latencyMs = Math.round(this.clock.now() - tierStarted);
		}

		const failed = attempts.filter((a) => a.status === 'failed');
		const circuitOpen = attempts.filter((a) => a.message === 'skipped: circuit open');
		const last = failed[failed.length - 1];
		if (last) last.decision = 'stop';
		const reason: NeedsHumanReason =
			stopReason ??
			(degradeBlocked
				? 'degrade_not_allowed'
				: contextSkipped && last?.errorClass === 'context_too_long'
					? 'no_larger_context'
					: 'all_tiers_failed');
		return this.finish(started, attempts, summaries, degraded, {
			outcome: 'needs_human',
			reason,
			reasonText: this.explain(reason, failed, circuitOpen, options.signal?.aborted ?? false),
		});
	}

	/**
	 * Waits at the circuit breaker's gate until a call may go out. Behind a test call in
	 * flight (a circuit's first call, or the probe after a cool-down) it waits for that call's
	 * outcome, as long as the task's deadline and the tier's timeout allow: a healthy but slow
	 * provider is never passed over. Only a circuit that actually opened is 'open'.
	 */
	private async passGate(
		tier: PreparedTier,
		deadlineAt: number,
		degraded: Set<string>,
		signal: AbortSignal | undefined,
	): Promise<'allow' | 'probe' | 'open' | 'deadline'> {
		const breaker = this.breaker as CircuitBreaker;
		const waitUntil = Math.min(deadlineAt, this.clock.now() + tier.timeoutMs);
		for (let pause = 5; ; pause = Math.min(pause * 2, GATE_POLL_MAX_MS)) {
			// A slow store (Redis far away, or failing) may not hold the task past its deadline.
			const admitting = breaker.admit(tier.circuit);
			const gate = await this.beforeDeadline(admitting, deadlineAt);
			if (!gate) {
				// A test call granted after the task gave up must not hold the circuit for others.
				void admitting
					.then((late) => (late.value === 'probe' ? breaker.release(tier.circuit) : undefined))
					.catch(() => undefined);
				return 'deadline';
			}
			if (gate.degraded) degraded.add(gate.degraded);
			if (gate.value !== 'wait') return gate.value;
			const now = this.clock.now();
			if (signal?.aborted || now >= deadlineAt) return 'deadline';
			if (now >= waitUntil) {
				// A test call still unanswered after a whole try's time: an opened circuit stays
				// passed over; behind a first call, nothing says the provider is down.
				return (await this.beforeDeadline(breaker.isOpen(tier.circuit, true), deadlineAt))
					? 'open'
					: 'allow';
			}
			await this.clock.sleep(Math.min(pause, waitUntil - now), signal);
		}
	}

	/** A store operation's answer, or undefined when the task's deadline comes first. */
	private async beforeDeadline<T>(
		operation: Promise<T>,
		deadlineAt: number,
	): Promise<T | undefined> {
		let cancel = () => {};
		const expired = new Promise<undefined>((resolve) => {
			cancel = this.clock.limit(Math.max(0, deadlineAt - this.clock.now()), () =>
				resolve(undefined),
			);
		});
		try {
			return await Promise.race([operation, expired]);
		} finally {
			cancel();
		}
	}

	/** Records a tier passed over because its circuit is open, saying since when and until when. */
	private async skipOpen(
		attempts: AttemptRecord[],
		index: number,
		attempt: number,
		circuit: string,
	): Promise<void> {
		const open = this.breaker
			? await this.beforeDeadline(this.breaker.openState(circuit), this.clock.now() + 1_000)
			: undefined;
		const detail = open
			? `${open.failures} ${open.failures === 1 ? 'failure' : 'failures'}, next probe at ${clockTime(open.openUntil)}`
			: undefined;
		this.skip(attempts, index, attempt, 'skipped: circuit open', detail);
	}

	/** Records a tier (or one try of it) passed over without a call. */
	private skip(
		attempts: AttemptRecord[],
		index: number,
		attempt: number,
		message: string,
		detail?: string,
	): void {
		const { provider, model } = this.tiers[index].config;
		const record: AttemptRecord = {
			tier: index + 1,
			attempt,
			provider,
			model,
			status: 'skipped',
			latencyMs: 0,
			waitedMs: 0,
			costUsd: 0,
			decision: 'next_tier',
			message,
			...(detail ? { detail } : {}),
		};
		attempts.push(record);
		this.events.onAttempt?.(record);
	}

	/** One call with its own timer; never throws. */
	private async attempt(
		tier: PreparedTier,
		request: CompletionRequest,
		remainingMs: number,
		outer: AbortSignal | undefined,
	): Promise<{
		latencyMs: number;
		response?: CompletionResponse;
		json?: unknown;
		usage?: TokenUsage;
		failure?: ClassifiedFailure;
		/** The engine cut this attempt short because the task ran out of time. */
		deadlineHit?: boolean;
		/** The execution was stopped during the call. */
		cancelled?: boolean;
	}> {
		// Whole milliseconds: the OpenAI SDK rejects a fractional timeout.
		const limit = Math.max(1, Math.floor(Math.min(tier.timeoutMs, remainingMs)));
		const cause: AbortCause = limit < tier.timeoutMs ? 'deadline' : 'attempt_timeout';
		const controller = new AbortController();
		let abortCause: AbortCause | undefined;
		const cancelLimit = this.clock.limit(limit, () => {
			abortCause = cause;
			controller.abort();
		});
		const onOuterAbort = () => {
			abortCause = 'cancelled';
			controller.abort();
		};
		outer?.addEventListener('abort', onOuterAbort, { once: true });
		const started = this.clock.now();
		try {
			const response = await tier.adapter.complete(request, {
				signal: controller.signal,
				timeoutMs: limit + SDK_TIMEOUT_SLACK_MS,
			});
			const latencyMs = this.clock.now() - started;
			const checked = classifyOutput(response, this.outputCheck);
			if ('failure' in checked) {
				return { latencyMs, response, usage: response.usage, failure: checked.failure };
			}
			return { latencyMs, response, usage: response.usage, json: checked.json };
		} catch (error) {
			const latencyMs = this.clock.now() - started;
			const cutShort = controller.signal.aborted ? abortCause : undefined;
			return {
				latencyMs,
				// A stopped execution has no time left either: nothing more is tried.
				deadlineHit: cutShort === 'deadline' || cutShort === 'cancelled',
				...(cutShort === 'cancelled' ? { cancelled: true } : {}),
				failure: classifyError(tier.config.provider, error, {
					abortCause: cutShort,
					secrets: this.secrets,
				}),
			};
		} finally {
			cancelLimit();
			outer?.removeEventListener('abort', onOuterAbort);
		}
	}

	private explain(
		reason: NeedsHumanReason,
		failed: AttemptRecord[],
		circuitOpen: AttemptRecord[],
		cancelled: boolean,
	): string {
		const byTier = new Map<number, AttemptRecord[]>();
		for (const attempt of failed) {
			const list = byTier.get(attempt.tier) ?? [];
			list.push(attempt);
			byTier.set(attempt.tier, list);
		}
		const parts = [...byTier.values()].map((list) => {
			const first = list[0];
			const classes = [
				...new Set(list.map((a) => `${a.errorClass}${a.httpStatus ? ` (${a.httpStatus})` : ''}`)),
			];
			const skipped = circuitOpen.find((s) => s.tier === first.tier);
			return `tier ${first.tier} ${first.provider}/${first.model}: ${classes.join(', ')} after ${list.length} ${list.length === 1 ? 'try' : 'tries'}${skipped ? `, then skipped, ${openWords(skipped)}` : ''}`;
		});
		for (const skipped of circuitOpen) {
			if (!byTier.has(skipped.tier))
				parts.push(
					`tier ${skipped.tier} ${skipped.provider}/${skipped.model}: skipped, ${openWords(skipped)}`,
				);
		}
		const what = parts.length ? `; ${parts.join('; ')}` : '';
		switch (reason) {
			case 'deadline_exceeded':
				return cancelled
					? `The task was cancelled before a model answered${what}.`
					: `No model answered within the task deadline of ${Math.round(this.deadlineMs / 100) / 10} s${what}.`;
			case 'degrade_not_allowed':
				return `The first model could not answer and this high-stakes task may not fall back to a different model${what}.`;
			case 'no_larger_context':
				return `The prompt is too long for every model in the chain${what}.`;
			case 'all_tiers_failed':
				return `Every model in the chain failed${what}.`;
		}
	}

	private finish(
		started: number,
		attempts: AttemptRecord[],
		tiers: TierSummary[],
		degraded: Set<string>,
		fields: Pick<TaskResult, 'outcome' | 'reasonText'> & Partial<TaskResult>,
	): TaskResult {
		const usage: TokenUsage = { inputTokens: 0, outputTokens: 0 };
		let total = 0;
		for (const attempt of attempts) {
			usage.inputTokens += attempt.usage?.inputTokens ?? 0;
			usage.outputTokens += attempt.usage?.outputTokens ?? 0;
			total += attempt.costUsd;
		}
		for (const tier of tiers) tier.costUsd = Math.round(tier.costUsd * 1e10) / 1e10;
		const result: TaskResult = {
			...fields,
			attempts,
			tiers,
			latencyMs: Math.round(this.clock.now() - started),
			usage,
			costUsd: Math.round(total * 1e10) / 1e10,
			priceTableVersion: PRICE_TABLE.version,
			...(this.config.drill && this.config.drill !== 'off' ? { drill: this.config.drill } : {}),
			...(degraded.size > 0 ? { degraded: [...degraded].join('; ') } : {}),
		};
		this.events.onResult?.(result);
		return result;
	}
}

/** A time of day for people reading a reason, in UTC (the engine does not know their zone). */
function clockTime(epochMs: number): string {
	return `${new Date(epochMs).toISOString().slice(11, 19)} UTC`;
}

/** "circuit open after 5 failures, next probe at 10:42:35 UTC", or just "circuit open". */
function openWords(skipped: AttemptRecord): string {
	return skipped.detail ? `circuit open after ${skipped.detail}` : 'circuit open';
}
