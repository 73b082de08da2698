/** What the emulator counts: requests and answers per provider, model and prompt, and the calls it received. */
import { createHash } from 'node:crypto';

import type { WireProvider } from './wire';

/** Model calls kept for inspection; older ones are dropped. */
const MAX_RECEIVED = 200;

/** What one prompt got: requests received, and successful answers sent in full. */
export interface PromptCount {
	calls: number;
	answered: number;
}

export interface EmulatorStats {
	total: number;
	/** Requests seen per `provider/model`, faults included. */
	requests: Record<string, number>;
	/** The most model calls that were open at once since the last reset. */
	maxInFlight: number;
	/** Normal answers sent in full per `provider/model`: what a client may not lose. */
	answers: Record<string, number>;
	/** 429s the scenario's rate limits sent. */
	limited: number;
	/** The same per API key, under the key's hash (`keyHash`), never the key. */
	limitedByKey: Record<string, number>;
}

/** A short hash naming an API key in counts, without the key. */
export function keyHash(key: string): string {
	return createHash('sha256').update(key).digest('hex').slice(0, 12);
}

/** One model call as the emulator received it, for tests and operators to inspect. */
export interface ReceivedCall {
	provider: WireProvider;
	model: string;
	path: string;
	/** The request body exactly as the client sent it. */
	body: Record<string, unknown>;
	/** Names of the tools the request offered. */
	tools: string[];
	/** Tool results the conversation carried. */
	toolResults: number;
	/** Model turns since the person's last message: the scripted turn it got. */
	turn: number;
	/** Whether the client asked for the answer as a stream. */
	stream: boolean;
}

function sumFor(counts: Map<string, number>, provider?: WireProvider, model?: string): number {
	let sum = 0;
	for (const [key, value] of counts) {
		if (provider === undefined) sum += value;
		else if (model !== undefined ? key === `${provider}/${model}` : key.startsWith(`${provider}/`))
			sum += value;
	}
	return sum;
}

export class Tally {
	private counts = new Map<string, number>();
	private answerCounts = new Map<string, number>();
	private prompts = new Map<string, PromptCount>();
	private total = 0;
	private inFlight = 0;
	private maxInFlight = 0;
	private log: ReceivedCall[] = [];
	private limitedCounts = new Map<string, number>();
	private limitedTotal = 0;

	/** Counts a model call as received; its prompt's count, for marking it answered. */
	received(call: ReceivedCall, promptText: string): PromptCount {
		const key = `${call.provider}/${call.model}`;
		this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
		this.total++;
		this.log.push(call);
		if (this.log.length > MAX_RECEIVED) this.log.shift();
		const promptCount = this.prompts.get(promptText) ?? { calls: 0, answered: 0 };
		promptCount.calls++;
		this.prompts.set(promptText, promptCount);
		return promptCount;
	}

	/** A call is open until its response ends or its connection closes (hangs, drops). */
	opened(): () => void {
		this.inFlight++;
		this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
		return () => this.inFlight--;
	}

	answered(provider: WireProvider, model: string): void {
		const key = `${provider}/${model}`;
		this.answerCounts.set(key, (this.answerCounts.get(key) ?? 0) + 1);
	}

	/** Counts a 429 the rate limits sent to a call carrying this key. */
	limited(apiKey: string): void {
		const hash = keyHash(apiKey);
		this.limitedCounts.set(hash, (this.limitedCounts.get(hash) ?? 0) + 1);
		this.limitedTotal++;
	}

	stats(): EmulatorStats {
		return {
			total: this.total,
			requests: Object.fromEntries(this.counts),
			maxInFlight: this.maxInFlight,
			answers: Object.fromEntries(this.answerCounts),
			limited: this.limitedTotal,
			limitedByKey: Object.fromEntries(this.limitedCounts),
		};
	}

	answers(provider?: WireProvider, model?: string): number {
		return sumFor(this.answerCounts, provider, model);
	}

	count(provider: WireProvider, model?: string): number {
		if (model !== undefined) return this.counts.get(`${provider}/${model}`) ?? 0;
		return sumFor(this.counts, provider);
	}

	calls(provider?: WireProvider): ReceivedCall[] {
		return provider ? this.log.filter((c) => c.provider === provider) : [...this.log];
	}

	promptCounts(): Map<string, PromptCount> {
		return new Map([...this.prompts].map(([prompt, count]) => [prompt, { ...count }]));
	}

	reset(): void {
		this.log = [];
		this.counts.clear();
		this.answerCounts.clear();
		this.prompts.clear();
		this.limitedCounts.clear();
		this.limitedTotal = 0;
		this.total = 0;
		this.maxInFlight = this.inFlight;
	}
}
