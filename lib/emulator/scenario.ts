/**
 * Scripted faults. A scenario is plain JSON (a file, or posted to the admin endpoint at run
 * time); rules are tried in order and the first one that applies decides the answer.
 */
import { checkLimits } from './limits';
import type { Limit } from './limits';
import { checkPacing, PROFILES } from './pacing';
import type { Profile, StreamPacing } from './pacing';
import { checkNumber, checkWholeNumber, ScenarioError } from './scenarioError';
import { HTTP_FAULTS, OUTPUT_FAULTS, WIRE_PROVIDERS } from './wire';
import type { ConversationShape, HttpFault, OutputFault, WireProvider } from './wire';

export type { ConversationShape, Limit };
export type { Profile, Range, StreamPacing } from './pacing';
export { ScenarioError };

/**
 * Transport faults, besides the error classes the wire module can send:
 * - hang: never answers;
 * - drop: closes the connection before any response;
 * - malformed: 200 with a JSON body cut off part-way (the response itself ends normally);
 * - drop_mid_body: 200 and its headers, half the body, then the connection is cut;
 * - slow_drip: 200 and its headers, then the real body one byte at a time over `dripSeconds`
 *   (30 s unless the rule says otherwise);
 * - proxy_html_502: a proxy's HTML "502 Bad Gateway" page instead of the provider's JSON.
 */
export const TRANSPORT_FAULTS = [
	'hang',
	'drop',
	'malformed',
	'drop_mid_body',
	'slow_drip',
	'proxy_html_502',
] as const;
export type TransportFault = (typeof TRANSPORT_FAULTS)[number];

/**
 * Faults in the middle of a stream, after `afterChunks` chunks (or `afterShare` of them; half
 * by default), never after the last chunk (the one that ends the stream):
 * - stream_cut: the connection is cut;
 * - stream_stall: nothing more is sent and the connection stays open (after 0 chunks: the 200
 *   and its headers, then nothing);
 * - stream_error: the provider's error event (a server error) inside the 200 stream;
 * - stream_overloaded: its overloaded error event (Anthropic's `overloaded_error`).
 * A call that is not streamed gets half its body then a cut, its headers then nothing, a
 * server_error or an overloaded answer.
 */
export const STREAM_FAULTS = [
	'stream_cut',
	'stream_stall',
	'stream_error',
	'stream_overloaded',
] as const;
export type StreamFault = (typeof STREAM_FAULTS)[number];

export type Fault = HttpFault | OutputFault | TransportFault | StreamFault | 'ok';

export const FAULTS: readonly Fault[] = [
	...HTTP_FAULTS,
	...OUTPUT_FAULTS,
	...TRANSPORT_FAULTS,
	...STREAM_FAULTS,
	'ok',
];

/** A tool call the model is scripted to make; the emulator gives it an id in the provider's style. */
export interface ScriptedToolCall {
	name: string;
	arguments?: Record<string, unknown>;
}

/**
 * One model turn of a scripted conversation: tool calls, text, or both. Which turn answers
 * depends on the conversation the request carries (see `Scenario.turns`).
 */
export interface Turn {
	toolCalls?: ScriptedToolCall[];
	reply?: string;
}

export interface Rule {
	/** Which provider this rule covers; omitted or "*" for all. */
	provider?: WireProvider | '*';
	/** A model name, or a prefix ending in "*"; omitted or "*" for all. */
	model?: string;
	/** Only calls carrying this API key; omitted: every key. */
	key?: string;
	/** What to answer. Omitted: a normal answer (with this rule's latency or reply). */
	fault?: Fault;
	/** Applies to this many matching calls, then is used up. */
	times?: number;
	/** Applies only after this many calls matched its provider and model: 1 means from the second call on. */
	afterCalls?: number;
	/** Applies only to requests that carry at least this many tool results. */
	minToolResults?: number;
	/** Applies only to requests that carry at most this many tool results. */
	maxToolResults?: number;
	/** Active from this many ms after the scenario was loaded... */
	afterMs?: number;
	/** ...until this many ms after. */
	untilMs?: number;
	/** Applies to this share of matching calls (0..1), at random. */
	rate?: number;
	/**
	 * Applies to every Nth matching call (the Nth, the 2Nth, ...), counted inside its time
	 * window: a provider failing one call in three, the same way on every run.
	 */
	every?: number;
	/** Added latency before answering, in ms. */
	latencyMs?: number;
	/** The answer text for a normal answer. */
	reply?: string;
	/** A scripted conversation for a normal answer; replaces the scenario's `turns`. */
	turns?: Turn[];
	/** The retry hint to send with rate_limited or overloaded, in seconds. */
	retryAfterS?: number;
	/** A token bucket: calls beyond it get rate_limited with the time until the next token. */
	rateLimit?: { capacity: number; refillPerSecond: number };
	/** How long a slow_drip takes to send its whole body, in seconds (30). */
	dripSeconds?: number;
	/** This rule's answers paced so; its fields go over the scenario's. */
	stream?: StreamPacing;
	/** A stream fault strikes after this many chunks... */
	afterChunks?: number;
	/** ...or after this share of them (0..1). */
	afterShare?: number;
}

export interface Scenario {
	/** Default answer text; `{provider}`, `{model}` and `{prompt}` are filled in. */
	reply?: string;
	/**
	 * A scripted conversation, for requests that offer tools: the request gets turn n when
	 * the model has already spoken n times since the person's last message, so a retry or a
	 * failover to another provider continues the script where it was. Past the last turn,
	 * the normal reply.
	 */
	turns?: Turn[];
	/** Latency added to every answer, in ms. */
	latencyMs?: number;
	/** When set for a provider, any other key gets that provider's auth error. */
	apiKeys?: Partial<Record<WireProvider, string>>;
	rules?: Rule[];
	/** Per-key rate limits, checked before the rules: a call over one gets the provider's 429. */
	limits?: Limit[];
	/** Named pacing: `instant` (the default) or `realistic`; `stream` goes over it. */
	profile?: Profile;
	/** Every answer paced so, unless a rule says otherwise. */
	stream?: StreamPacing;
	/** Seeds the random draws of pacing and generated answers (a fixed default). */
	seed?: number;
}

/** A rule's stream fields: its pacing, and where its stream fault strikes. */
function checkStreamFields(rule: Rule, at: string): void {
	checkPacing(rule.stream, `${at}.stream`);
	checkWholeNumber(rule.afterChunks, `${at}.afterChunks`, 0);
	checkNumber(rule.afterShare, `${at}.afterShare`, 0, 1);
	if (rule.afterChunks !== undefined && rule.afterShare !== undefined)
		throw new ScenarioError(`${at}.afterShare`, 'give afterChunks or afterShare, not both');
	const placed = rule.afterChunks !== undefined ? 'afterChunks' : 'afterShare';
	if (rule[placed] !== undefined && !(STREAM_FAULTS as readonly unknown[]).includes(rule.fault))
		throw new ScenarioError(
			`${at}.${placed}`,
			`applies only to the stream faults (${STREAM_FAULTS.join(', ')})`,
		);
}

/** Checks a scripted conversation: each turn has tool calls, a reply or both. */
function checkTurns(turns: unknown, field: string): void {
	if (turns === undefined) return;
	if (!Array.isArray(turns)) throw new ScenarioError(field, 'must be a list');
	turns.forEach((turn: unknown, i) => {
		const at = `${field}[${i}]`;
		if (!turn || typeof turn !== 'object' || Array.isArray(turn))
			throw new ScenarioError(at, 'must be an object with toolCalls, reply or both');
		const { toolCalls, reply } = turn as Turn;
		if (reply !== undefined && typeof reply !== 'string')
			throw new ScenarioError(`${at}.reply`, 'must be text');
		if (toolCalls === undefined) {
			if (reply === undefined) throw new ScenarioError(at, 'needs toolCalls, reply or both');
			return;
		}
		if (!Array.isArray(toolCalls)) throw new ScenarioError(`${at}.toolCalls`, 'must be a list');
		toolCalls.forEach((call: unknown, j) => {
			const where = `${at}.toolCalls[${j}]`;
			if (!call || typeof call !== 'object')
				throw new ScenarioError(where, 'must be an object with a name');
			const { name, arguments: args } = call as ScriptedToolCall;
			if (typeof name !== 'string' || name === '')
				throw new ScenarioError(`${where}.name`, 'must be non-empty text');
			if (args !== undefined && (!args || typeof args !== 'object' || Array.isArray(args)))
				throw new ScenarioError(`${where}.arguments`, 'must be an object');
		});
	});
}

/** Checks one rule of a scenario, naming the field at fault. */
function checkRule(rule: Rule, i: number): void {
	const at = `rules[${i}]`;
	if (!rule || typeof rule !== 'object') throw new ScenarioError(at, 'must be an object');
	if (
		rule.provider !== undefined &&
		rule.provider !== '*' &&
		!WIRE_PROVIDERS.includes(rule.provider)
	) {
		throw new ScenarioError(
			`${at}.provider`,
			`unknown provider ${JSON.stringify(rule.provider)}; use ${WIRE_PROVIDERS.join(', ')} or *`,
		);
	}
	if (rule.fault !== undefined && !FAULTS.includes(rule.fault)) {
		throw new ScenarioError(
			`${at}.fault`,
			`unknown fault ${JSON.stringify(rule.fault)}; use one of ${FAULTS.join(', ')}`,
		);
	}
	if (rule.key !== undefined && (typeof rule.key !== 'string' || rule.key === ''))
		throw new ScenarioError(`${at}.key`, 'must be non-empty text');
	checkNumber(rule.times, `${at}.times`, 1);
	checkNumber(rule.afterCalls, `${at}.afterCalls`, 0);
	checkNumber(rule.minToolResults, `${at}.minToolResults`, 0);
	checkNumber(rule.maxToolResults, `${at}.maxToolResults`, 0);
	if (rule.reply !== undefined && typeof rule.reply !== 'string')
		throw new ScenarioError(`${at}.reply`, 'must be text');
	checkTurns(rule.turns, `${at}.turns`);
	checkNumber(rule.afterMs, `${at}.afterMs`, 0);
	checkNumber(rule.untilMs, `${at}.untilMs`, 0);
	checkNumber(rule.rate, `${at}.rate`, 0, 1);
	checkNumber(rule.every, `${at}.every`, 1);
	if (rule.every !== undefined && !Number.isInteger(rule.every))
		throw new ScenarioError(`${at}.every`, `must be a whole number, got ${rule.every}`);
	checkStreamFields(rule, at);
	checkNumber(rule.latencyMs, `${at}.latencyMs`, 0);
	checkNumber(rule.retryAfterS, `${at}.retryAfterS`, 0);
	checkNumber(rule.dripSeconds, `${at}.dripSeconds`, 0);
	if (rule.rateLimit !== undefined) {
		checkNumber(rule.rateLimit.capacity, `${at}.rateLimit.capacity`, 1);
		checkNumber(rule.rateLimit.refillPerSecond, `${at}.rateLimit.refillPerSecond`, 0.001);
	}
}

/** Validates a parsed scenario and returns it typed; names the offending field. */
export function parseScenario(input: unknown): Scenario {
	if (!input || typeof input !== 'object' || Array.isArray(input)) {
		throw new ScenarioError('(root)', 'must be a JSON object');
	}
	const scenario = input as Scenario;
	checkNumber(scenario.latencyMs, 'latencyMs', 0);
	if (scenario.reply !== undefined && typeof scenario.reply !== 'string')
		throw new ScenarioError('reply', 'must be text');
	checkTurns(scenario.turns, 'turns');
	if (scenario.profile !== undefined && !PROFILES.includes(scenario.profile))
		throw new ScenarioError(
			'profile',
			`unknown profile ${JSON.stringify(scenario.profile)}; use ${PROFILES.join(', ')}`,
		);
	checkPacing(scenario.stream, 'stream');
	checkWholeNumber(scenario.seed, 'seed', 0);
	if (scenario.apiKeys !== undefined) {
		for (const key of Object.keys(scenario.apiKeys)) {
			if (!WIRE_PROVIDERS.includes(key as WireProvider))
				throw new ScenarioError(
					`apiKeys.${key}`,
					`unknown provider; use ${WIRE_PROVIDERS.join(', ')}`,
				);
		}
	}
	if (scenario.rules !== undefined && !Array.isArray(scenario.rules))
		throw new ScenarioError('rules', 'must be a list');
	(scenario.rules ?? []).forEach(checkRule);
	checkLimits(scenario.limits, 'limits');
	return scenario;
}
