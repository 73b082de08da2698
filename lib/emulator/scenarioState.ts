/** A loaded scenario and the state its rules keep, deciding what each request gets. */
import { RateLimits } from './limits';
import { DEFAULT_SEED, drawPace, hashText, PROFILE_PACING, seededRandom } from './pacing';
import type { Pace, Profile, StreamPacing } from './pacing';
import type { ConversationShape, Fault, Rule, Scenario, Turn } from './scenario';
import { covers } from './wire';
import type { WireProvider } from './wire';

const NO_CONVERSATION: ConversationShape = { toolResults: 0, turn: 0, hasTools: false };

interface RuleState {
	rule: Rule;
	used: number;
	/** Calls to its provider and model, whichever rule answered them, for afterCalls. */
	seen: number;
	/** Calls that passed its other filters, for `every`. */
	counted: number;
	tokens: number;
	refilledAt: number;
}

/** What the server should do with one request. */
export interface Verdict {
	fault: Fault;
	latencyMs: number;
	reply?: string;
	/** The scripted turn to answer with, when the request offers tools and the script has one. */
	turn?: Turn;
	retryAfterS?: number;
	dripSeconds?: number;
	/** The answer's pacing; none: at once. */
	pace?: Pace;
	/** Where a stream fault strikes. */
	afterChunks?: number;
	afterShare?: number;
}

/** A loaded scenario with the state its rules keep (uses, windows, token buckets). */
export class ScenarioState {
	private readonly rules: RuleState[];
	private readonly loadedAt: number;
	/** The scenario's rate limits, their buckets kept from its load on. */
	readonly limits: RateLimits;

	constructor(
		readonly scenario: Scenario,
		private readonly random: () => number = Math.random,
		now: number = Date.now(),
		/** The profile of a scenario that names none. */
		private readonly profile: Profile = 'instant',
	) {
		this.loadedAt = now;
		this.limits = new RateLimits(scenario.limits);
		this.rules = (scenario.rules ?? []).map((rule) => this.stateFor(rule, now));
	}

	private stateFor(rule: Rule, now: number): RuleState {
		return {
			rule,
			used: 0,
			seen: 0,
			counted: 0,
			tokens: rule.rateLimit?.capacity ?? 0,
			refilledAt: now,
		};
	}

	/** Adds rules at run time; their windows count from now, like a fresh scenario. */
	addRules(rules: Rule[], now: number = Date.now()): void {
		const offset = now - this.loadedAt;
		for (const rule of rules) {
			this.rules.push(
				this.stateFor(
					{
						...rule,
						...(rule.afterMs !== undefined
							? { afterMs: rule.afterMs + offset }
							: { afterMs: offset }),
						...(rule.untilMs !== undefined ? { untilMs: rule.untilMs + offset } : {}),
					},
					now,
				),
			);
		}
		this.scenario.rules = this.rules.map((s) => s.rule);
	}

	decide(
		provider: WireProvider,
		model: string,
		now: number = Date.now(),
		conversation: ConversationShape = NO_CONVERSATION,
		/** The prompt's text: with the seed and the model it draws the pace. */
		prompt = '',
		/** The call's API key, for rules that cover one key. */
		apiKey = '',
	): Verdict {
		const { verdict, stream } = this.pick({ provider, model, apiKey }, now, conversation);
		const pacing: StreamPacing = {
			...PROFILE_PACING[this.scenario.profile ?? this.profile],
			...this.scenario.stream,
			...stream,
		};
		if (Object.keys(pacing).length === 0) return verdict;
		const seed = this.scenario.seed ?? DEFAULT_SEED;
		// Drawn from the prompt, not from the order of arrival: two runs sending the same
		// prompts to the same model get the same pace, however their calls interleave.
		const random = seededRandom(hashText(`${seed}\n${model}\n${prompt.trim()}`));
		return { ...verdict, pace: drawPace(pacing, seed, random) };
	}

	/** The first rule that applies decides, and gives its own pacing. */
	private pick(
		call: CallOf,
		now: number,
		conversation: ConversationShape,
	): { verdict: Verdict; stream?: StreamPacing } {
		const elapsed = now - this.loadedAt;
		const base = this.scenario.latencyMs ?? 0;
		// Every call counts for afterCalls, including those an earlier rule answers.
		for (const state of this.rules) if (coversCall(state.rule, call)) state.seen++;
		for (const state of this.rules) {
			const rule = state.rule;
			if (!coversCall(rule, call) || !applies(state, elapsed, conversation)) continue;
			if (rule.rateLimit) {
				const limited = overLimit(state, rule.rateLimit, now);
				if (limited === undefined) continue; // within the limit: the next rules decide
				state.used++;
				return { verdict: { fault: 'rate_limited', latencyMs: base, retryAfterS: limited } };
			}
			if (rule.every !== undefined && ++state.counted % rule.every !== 0) continue;
			if (rule.rate !== undefined && this.random() >= rule.rate) continue;
			state.used++;
			// The most specific script wins: the rule's turns, its reply, then the scenario's turns.
			const turns = rule.turns ?? (rule.reply === undefined ? this.scenario.turns : undefined);
			const verdict: Verdict = {
				fault: rule.fault ?? 'ok',
				latencyMs: base + (rule.latencyMs ?? 0),
				reply: rule.reply,
				turn: turnFor(turns, conversation),
				retryAfterS: rule.retryAfterS,
				dripSeconds: rule.dripSeconds,
				afterChunks: rule.afterChunks,
				afterShare: rule.afterShare,
			};
			return { verdict, stream: rule.stream };
		}
		const turn = turnFor(this.scenario.turns, conversation);
		return { verdict: { fault: 'ok', latencyMs: base, turn } };
	}
}

/** Who a call is for, as rules filter it. */
interface CallOf {
	provider: WireProvider;
	model: string;
	apiKey: string;
}

/** Whether a rule covers a call: its provider, model and key, when it names them. */
function coversCall(rule: Rule, call: CallOf): boolean {
	return (
		covers(rule, call.provider, call.model) && (rule.key === undefined || rule.key === call.apiKey)
	);
}

/** Whether a rule's call count, tool-result and time filters and its uses let it apply now. */
function applies(state: RuleState, elapsed: number, conversation: ConversationShape): boolean {
	const rule = state.rule;
	if (rule.afterCalls !== undefined && state.seen <= rule.afterCalls) return false;
	if (rule.minToolResults !== undefined && conversation.toolResults < rule.minToolResults)
		return false;
	if (rule.maxToolResults !== undefined && conversation.toolResults > rule.maxToolResults)
		return false;
	if (rule.afterMs !== undefined && elapsed < rule.afterMs) return false;
	if (rule.untilMs !== undefined && elapsed >= rule.untilMs) return false;
	return !(rule.times !== undefined && state.used >= rule.times);
}

/**
 * Takes a token from the rule's bucket: undefined when there was one, else the seconds until
 * the next one.
 */
function overLimit(
	state: RuleState,
	limit: { capacity: number; refillPerSecond: number },
	now: number,
): number | undefined {
	state.tokens = Math.min(
		limit.capacity,
		state.tokens + ((now - state.refilledAt) / 1000) * limit.refillPerSecond,
	);
	state.refilledAt = now;
	if (state.tokens >= 1) {
		state.tokens -= 1;
		return undefined;
	}
	return (1 - state.tokens) / limit.refillPerSecond;
}

function turnFor(turns: Turn[] | undefined, conversation: ConversationShape): Turn | undefined {
	if (!turns || !conversation.hasTools) return undefined;
	return turns[conversation.turn];
}
