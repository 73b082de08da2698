/**
 * How fast the emulator answers: time to the first token, tokens per second, tokens per
 * chunk and, when no reply is scripted, the length of a generated answer. Each is a number
 * or a [min, max] range drawn from a random sequence seeded by the scenario's seed, the model
 * and the prompt, so a run can be repeated and two runs of the same prompts are paced alike
 * whatever order their calls arrive in. Without any pacing the emulator answers at once.
 */
import { checkNumber, checkWholeNumber, ScenarioError } from './scenarioError';

/** A number, or a [min, max] range to draw from. */
export type Range = number | [number, number];

export interface StreamPacing {
	/** Milliseconds before the first chunk (before a whole answer: then the tokens' time too). */
	firstTokenMs?: Range;
	tokensPerSecond?: Range;
	/** The length of the answer generated when no reply is scripted, in tokens (words). */
	answerTokens?: Range;
	/** Tokens sent in one chunk. */
	chunkTokens?: Range;
}

export const PROFILES = ['instant', 'realistic'] as const;
export type Profile = (typeof PROFILES)[number];

/** What a profile sets; a scenario's and a rule's own `stream` fields go over it. */
export const PROFILE_PACING: Record<Profile, StreamPacing> = {
	instant: {},
	realistic: {
		firstTokenMs: [400, 900],
		tokensPerSecond: [40, 80],
		answerTokens: [150, 600],
		chunkTokens: [1, 4],
	},
};

export const DEFAULT_SEED = 21;

/** One answer's pacing, drawn. */
export interface Pace {
	firstTokenMs: number;
	/** 0: as fast as the connection takes them. */
	msPerToken: number;
	chunkTokens: number;
	/** Generate an answer of this length when no reply is scripted. */
	answerTokens?: Range;
	/** The scenario's seed: a generated answer depends on it and on the prompt alone. */
	seed: number;
}

/** Mulberry32: a small, fast random sequence from a 32-bit seed. */
export function seededRandom(seed: number): () => number {
	let state = seed >>> 0;
	return () => {
		state = (state + 0x6d2b79f5) >>> 0;
		let t = state;
		t = Math.imul(t ^ (t >>> 15), t | 1);
		t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
		return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
	};
}

/** FNV-1a: a text's 32-bit hash, to seed a sequence with it. */
export function hashText(text: string): number {
	let hash = 0x811c9dc5;
	for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
	return hash >>> 0;
}

export function draw(range: Range, random: () => number): number {
	if (typeof range === 'number') return range;
	return range[0] + (range[1] - range[0]) * random();
}

export function drawWhole(range: Range, random: () => number): number {
	return typeof range === 'number' ? range : Math.floor(draw([range[0], range[1] + 1], random));
}

export function drawPace(pacing: StreamPacing, seed: number, random: () => number): Pace {
	const tokensPerSecond = pacing.tokensPerSecond && draw(pacing.tokensPerSecond, random);
	return {
		firstTokenMs: pacing.firstTokenMs === undefined ? 0 : draw(pacing.firstTokenMs, random),
		msPerToken: tokensPerSecond ? 1000 / tokensPerSecond : 0,
		chunkTokens: pacing.chunkTokens === undefined ? 1 : drawWhole(pacing.chunkTokens, random),
		answerTokens: pacing.answerTokens,
		seed,
	};
}

const LIMITS: Record<keyof StreamPacing, { min: number; whole: boolean }> = {
	firstTokenMs: { min: 0, whole: false },
	tokensPerSecond: { min: 0.001, whole: false },
	answerTokens: { min: 1, whole: true },
	chunkTokens: { min: 1, whole: true },
};

function checkRange(value: unknown, field: string, limit: { min: number; whole: boolean }): void {
	const check = limit.whole ? checkWholeNumber : checkNumber;
	if (!Array.isArray(value)) return check(value, field, limit.min);
	if (value.length !== 2) throw new ScenarioError(field, 'must be a number or [min, max]');
	check(value[0], `${field}[0]`, limit.min);
	check(value[1], `${field}[1]`, limit.min);
	if (value[0] > value[1])
		throw new ScenarioError(field, `min ${value[0]} is above max ${value[1]}`);
}

/** Checks a `stream` object of a scenario or a rule, naming the field at fault. */
export function checkPacing(value: unknown, field: string): void {
	if (value === undefined) return;
	if (!value || typeof value !== 'object' || Array.isArray(value))
		throw new ScenarioError(field, `must be an object with ${Object.keys(LIMITS).join(', ')}`);
	for (const [key, fieldValue] of Object.entries(value)) {
		if (!Object.hasOwn(LIMITS, key))
			throw new ScenarioError(`${field}.${key}`, `unknown; use ${Object.keys(LIMITS).join(', ')}`);
		checkRange(fieldValue, `${field}.${key}`, LIMITS[key as keyof StreamPacing]);
	}
}
