/**
 * Rate limits as providers enforce them: requests and tokens per minute, each a token bucket
 * per API key (or for one named key). A call the buckets refuse gets the provider's own 429
 * naming the limit; every answer to a call a limit covers tells what is left.
 */
import type { LimitState, LimitStates } from '../providers/rateLimits';
import type { LimitExceeded } from '../providers/wireFormat';
import { checkNumber, ScenarioError } from './scenarioError';
import { covers, WIRE_PROVIDERS } from './wire';
import type { WireProvider } from './wire';

export interface Limit {
	/** Which provider it covers; omitted or "*" for all. */
	provider?: WireProvider | '*';
	/** A model name, or a prefix ending in "*"; omitted or "*" for all. */
	model?: string;
	/** Only calls carrying this API key; omitted: each key gets buckets of its own. */
	key?: string;
	/** Requests per minute. */
	rpm?: number;
	/** Tokens per minute: input and output. */
	tpm?: number;
	/** How many seconds' worth of the limit a bucket holds when full (1). */
	burstSeconds?: number;
}

const FIELDS = ['provider', 'model', 'key', 'rpm', 'tpm', 'burstSeconds'];

/** Checks a scenario's `limits`, naming the field at fault. */
export function checkLimits(limits: unknown, field: string): void {
	if (limits === undefined) return;
	if (!Array.isArray(limits)) throw new ScenarioError(field, 'must be a list');
	limits.forEach((limit: unknown, i) => {
		const at = `${field}[${i}]`;
		if (!limit || typeof limit !== 'object' || Array.isArray(limit))
			throw new ScenarioError(at, 'must be an object with rpm, tpm or both');
		for (const name of Object.keys(limit))
			if (!FIELDS.includes(name))
				throw new ScenarioError(`${at}.${name}`, `unknown; use ${FIELDS.join(', ')}`);
		const { provider, model, key, rpm, tpm, burstSeconds } = limit as Limit;
		if (provider !== undefined && provider !== '*' && !WIRE_PROVIDERS.includes(provider))
			throw new ScenarioError(
				`${at}.provider`,
				`unknown provider ${JSON.stringify(provider)}; use ${WIRE_PROVIDERS.join(', ')} or *`,
			);
		if (model !== undefined && (typeof model !== 'string' || model === ''))
			throw new ScenarioError(`${at}.model`, 'must be a model name or a prefix ending in *');
		if (key !== undefined && (typeof key !== 'string' || key === ''))
			throw new ScenarioError(`${at}.key`, 'must be non-empty text');
		checkNumber(rpm, `${at}.rpm`, 0.001);
		checkNumber(tpm, `${at}.tpm`, 0.001);
		checkNumber(burstSeconds, `${at}.burstSeconds`, 0.001);
		if (rpm === undefined && tpm === undefined)
			throw new ScenarioError(at, 'needs rpm, tpm or both');
	});
}

/** One limit's bucket: `perMinute` refilled evenly, holding `burstSeconds` of it when full. */
class Bucket {
	private readonly capacity: number;
	private readonly perMs: number;
	private level: number;
	private at: number;

	constructor(
		readonly perMinute: number,
		burstSeconds: number,
		now: number,
	) {
		this.capacity = Math.max(1, (perMinute * burstSeconds) / 60);
		this.perMs = perMinute / 60_000;
		this.level = this.capacity;
		this.at = now;
	}

	refill(now: number): void {
		this.level = Math.min(this.capacity, this.level + Math.max(0, now - this.at) * this.perMs);
		this.at = Math.max(this.at, now);
	}

	take(amount: number): void {
		this.level -= amount;
	}

	/** Whether a call needing `atLeast` (requests: 1) or just more than nothing (tokens) fits. */
	holds(atLeast: number | 'any'): boolean {
		return atLeast === 'any' ? this.level > 0 : this.level >= atLeast;
	}

	/** Ms until the bucket holds `level`, or more than nothing for 'any'. */
	msUntil(level: number | 'any'): number {
		if (level === 'any') return Math.floor(Math.max(0, -this.level) / this.perMs) + 1;
		return Math.max(1, Math.ceil((level - this.level) / this.perMs));
	}

	exceeded(kind: LimitExceeded['kind'], requested: number): LimitExceeded {
		return {
			kind,
			limit: this.perMinute,
			used: Math.max(0, Math.round(this.perMinute - this.level)),
			requested,
			retryAfterMs: this.msUntil(kind === 'requests' ? 1 : 'any'),
		};
	}

	state(): LimitState {
		return {
			limit: this.perMinute,
			remaining: Math.max(0, Math.floor(this.level)),
			resetMs: Math.max(0, Math.ceil((this.capacity - this.level) / this.perMs)),
		};
	}
}

interface Buckets {
	requests?: Bucket;
	tokens?: Bucket;
}

/** A limit entry and its buckets, one pair per API key (one pair when it names its key). */
class Entry {
	private readonly byKey = new Map<string, Buckets>();

	constructor(readonly limit: Limit) {}

	applies(provider: WireProvider, model: string, key: string): boolean {
		return covers(this.limit, provider, model) && (this.limit.key ?? key) === key;
	}

	bucketsFor(key: string, now: number): Buckets {
		let buckets = this.byKey.get(key);
		if (!buckets) {
			const { rpm, tpm, burstSeconds = 1 } = this.limit;
			buckets = {
				...(rpm !== undefined ? { requests: new Bucket(rpm, burstSeconds, now) } : {}),
				...(tpm !== undefined ? { tokens: new Bucket(tpm, burstSeconds, now) } : {}),
			};
			this.byKey.set(key, buckets);
		}
		return buckets;
	}
}

/** A call the limits covered: refused (and not charged), or admitted and charged its input. */
export interface Admission {
	refused?: LimitExceeded;
	/**
	 * Charges an admitted call's output tokens (none for an error or a refusal) and gives the
	 * buckets' state after it: per kind, the one with the least left.
	 */
	charge(outputTokens: number, now: number): LimitStates;
}

/** The scenario's limits and their buckets, from the scenario's load on. */
export class RateLimits {
	private readonly entries: Entry[];

	constructor(limits: readonly Limit[] = []) {
		this.entries = limits.map((limit) => new Entry(limit));
	}

	/** Checks a call against every limit that covers it; undefined when none does. */
	admit(
		provider: WireProvider,
		model: string,
		key: string,
		inputTokens: number,
		now: number,
	): Admission | undefined {
		const all = this.entries
			.filter((entry) => entry.applies(provider, model, key))
			.map((entry) => entry.bucketsFor(key, now));
		if (all.length === 0) return undefined;
		for (const buckets of all) {
			buckets.requests?.refill(now);
			buckets.tokens?.refill(now);
		}
		const refused = firstRefusal(all, inputTokens);
		if (!refused) {
			for (const buckets of all) {
				buckets.requests?.take(1);
				buckets.tokens?.take(inputTokens);
			}
		}
		return {
			...(refused ? { refused } : {}),
			charge: (outputTokens, at) => {
				for (const buckets of all) {
					buckets.requests?.refill(at);
					buckets.tokens?.refill(at);
					if (!refused) buckets.tokens?.take(outputTokens);
				}
				return statesOf(all);
			},
		};
	}
}

/** The first limit a call does not fit: an empty requests bucket, then an empty tokens one. */
function firstRefusal(all: Buckets[], inputTokens: number): LimitExceeded | undefined {
	for (const { requests, tokens } of all) {
		if (requests && !requests.holds(1)) return requests.exceeded('requests', 1);
		if (tokens && !tokens.holds('any')) return tokens.exceeded('tokens', inputTokens);
	}
	return undefined;
}

/** The tightest of each kind: the least left for its limit. */
function statesOf(all: Buckets[]): LimitStates {
	const states: LimitStates = {};
	for (const buckets of all) {
		for (const kind of ['requests', 'tokens'] as const) {
			const state = buckets[kind]?.state();
			const held = states[kind];
			if (state && (!held || state.remaining / state.limit < held.remaining / held.limit))
				states[kind] = state;
		}
	}
	return states;
}
