/**
 * The engine streaming through the real SDKs against the emulator at real-world pace: the
 * first token after most of a second, then a few dozen tokens a second. Text reaches the
 * reader while the provider is still sending; an outage before the first token, a provider
 * that accepts and says nothing, and a stream cut or overloaded mid-answer all end in one
 * whole answer, read once. Assertions are on order and counts, not on wall-clock time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FailoverChain } from '../../lib/engine/failoverChain';
import type { TaskResult, TierConfig } from '../../lib/engine/types';
import type { Rule } from '../../lib/emulator/scenario';
import type { WireProvider } from '../../lib/emulator/wire';
import { FAST_BACKOFF, tier, useEmulator } from '../support/emulator';

const ctx = useEmulator();
const PROVIDERS: WireProvider[] = ['anthropic', 'openai', 'gemini', 'ollama'];

const REPLY =
	'Your parcel left the depot this morning and should reach you tomorrow before noon, ' +
	'carried by the same driver as last time, who will ring twice and wait a minute.';
/** Real-world pace, slowed just enough that every answer streams in many pieces. */
const PACE = { firstTokenMs: 700, tokensPerSecond: 60, chunkTokens: 1 };

interface Streamed {
	result: TaskResult;
	texts: string[];
	/** Whether the emulator had finished sending any answer when the reader got the first piece. */
	completeAtFirstPiece: boolean;
	/** Requests one provider saw during this run. */
	calls(provider: WireProvider): number;
}

async function stream(tiers: TierConfig[], rules: Rule[] = []): Promise<Streamed> {
	ctx.emulator.loadScenario({ reply: REPLY, stream: PACE, rules });
	const before = new Map(PROVIDERS.map((p) => [p, ctx.emulator.count(p)]));
	const chain = new FailoverChain({ tiers, backoff: FAST_BACKOFF, deadlineMs: 60_000 });
	const texts: string[] = [];
	const answersBefore = ctx.emulator.answers();
	let completeAtFirstPiece = false;
	const result = await chain.run(
		{ prompt: 'Where is my parcel?' },
		{
			onText: (delta) => {
				if (texts.length === 0) completeAtFirstPiece = ctx.emulator.answers() > answersBefore;
				texts.push(delta);
			},
		},
	);
	return {
		result,
		texts,
		completeAtFirstPiece,
		calls: (p) => ctx.emulator.count(p) - (before.get(p) ?? 0),
	};
}

function tiersOf(...providers: WireProvider[]): TierConfig[] {
	return providers.map((p) =>
		tier(ctx.emulator, p, { attempts: 2, firstTokenTimeoutMs: 3_000, stallTimeoutMs: 3_000 }),
	);
}

describe('streaming through the real SDKs at real-world pace', () => {
	for (const provider of PROVIDERS) {
		it(`${provider}: the reader gets the answer in many pieces, in order, the whole text once`, async () => {
			const { result, texts, calls, completeAtFirstPiece } = await stream(tiersOf(provider));
			assert.equal(
				completeAtFirstPiece,
				false,
				'the first piece came while the answer was still being sent',
			);
			assert.equal(result.outcome, 'answered');
			assert.ok(texts.length >= 10, `${texts.length} pieces`);
			assert.equal(texts.join(''), REPLY);
			assert.equal(result.text, REPLY);
			assert.ok((result.attempts[0].firstTokenMs ?? 0) > 0, 'time to first token recorded');
			assert.equal(calls(provider), 1);
		});
	}

	it('a 529 before the first token fails over unseen: the reader gets only the second tier, whole', async () => {
		const { result, texts, calls } = await stream(tiersOf('anthropic', 'openai'), [
			{ provider: 'anthropic', fault: 'overloaded' },
		]);
		assert.equal(result.tier, 2);
		assert.equal(texts.join(''), REPLY);
		assert.equal(calls('anthropic'), 2, 'retried once, as the policy says');
		assert.equal(result.continuedFrom, undefined);
	});

	it('a provider that accepts and sends nothing is left at the first-token timeout for the next tier', async () => {
		const { result, texts } = await stream(
			tiersOf('anthropic', 'openai').map((t, i) => (i === 0 ? { ...t, attempts: 1 } : t)),
			[{ provider: 'anthropic', fault: 'stream_stall', afterChunks: 0 }],
		);
		assert.equal(result.tier, 2);
		assert.equal(result.attempts[0].errorClass, 'timeout');
		assert.match(result.attempts[0].message ?? '', /first token/);
		assert.equal(texts.join(''), REPLY);
	});

	for (const fault of ['stream_cut', 'stream_overloaded'] as const) {
		it(`${fault} after a third of the answer: the next tier continues it, no text lost or repeated`, async () => {
			const { result, texts } = await stream(
				tiersOf('anthropic', 'openai').map((t, i) => (i === 0 ? { ...t, attempts: 1 } : t)),
				[{ provider: 'anthropic', fault, afterShare: 0.33 }],
			);
			assert.equal(result.outcome, 'answered');
			assert.equal(result.tier, 2);
			assert.equal(texts.join(''), REPLY, 'the reader read the answer once, whole');
			assert.equal(result.text, REPLY);
			assert.equal(result.continuedFrom?.tier, 1);
			const kept = result.continuedFrom?.chars ?? 0;
			assert.ok(kept > 0 && kept < REPLY.length, `kept ${kept} characters`);
			// Pieces came from both tiers: the first tier's before the break, the rest after.
			assert.ok(texts.length >= 10, `${texts.length} pieces`);
		});
	}

	it('the same break on a prefill provider is continued by the same tier on retry', async () => {
		const { result, texts, calls } = await stream(tiersOf('anthropic'), [
			{ provider: 'anthropic', fault: 'stream_cut', afterShare: 0.5, times: 1 },
		]);
		assert.equal(result.tier, 1);
		assert.equal(texts.join(''), REPLY);
		assert.equal(result.continuedFrom?.tier, 1);
		assert.equal(calls('anthropic'), 2);
	});
});
