/**
 * Streaming at real providers' speed, on real timers: fake providers that take one to two
 * seconds to their first token and then send a token every 30-100 ms (seeded). Asserted on
 * the order of events and their counts, never on how long anything took.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { CONTINUE_INSTRUCTION } from '../../lib/providers/messageMapping';
import { httpError } from '../support/fakeStreams';
import type { Play } from '../support/fakeStreams';
import { streamingChain } from '../support/streamingChain';

/** A seeded random in [0, 1): the same pacing on every run. */
function seeded(seed: number): () => number {
	let state = seed;
	return () => {
		state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
		return state / 2_147_483_648;
	};
}

/** `count` words paced as a real model streams them: first after 1-2 s, then every 30-100 ms. */
function realistic(prefix: string, count: number, seed: number): Play & { chunks: string[] } {
	const random = seeded(seed);
	return {
		chunks: Array.from({ length: count }, (_, i) => `${prefix}${i} `),
		firstMs: 1_000 + Math.round(random() * 1_000),
		gapMs: () => 30 + Math.round(random() * 70),
	};
}

const text = (play: { chunks: string[] }) => play.chunks.join('');

describe('streaming at real latency', () => {
	it('the reader gets each token as it comes, long before the answer is complete', async () => {
		const answer = realistic('w', 20, 1);
		const { log, texts, run } = streamingChain(
			[{ name: 'p', plays: [answer] }],
			{},
			{
				realTime: true,
			},
		);
		const result = await run();
		assert.deepEqual(log, [
			...answer.chunks.flatMap((c) => [`p sent ${c}`, `reader got ${c}`]),
			'run resolved',
		]);
		assert.equal(texts.length, 20);
		assert.equal(result.text, text(answer));
		assert.ok((result.attempts[0].firstTokenMs ?? 0) > 0);
	});

	it('a primary answering 529 is failed over before any text: the reader sees only the second tier', async () => {
		const answer = realistic('s', 12, 2);
		const { fakes, texts, run } = streamingChain(
			[
				{ name: 'primary', attempts: 2, plays: [{ fail: httpError(529), afterMs: 150 }] },
				{ name: 'secondary', plays: [answer] },
			],
			{},
			{ realTime: true },
		);
		const result = await run();
		assert.equal(result.tier, 2);
		assert.equal(fakes[0].calls, 2);
		assert.deepEqual(texts, answer.chunks);
	});

	it('a primary that accepts and never starts is abandoned at its first-token timeout; the next tier answers', async () => {
		const answer = realistic('s', 10, 3);
		const { log, texts, run } = streamingChain(
			[
				{ name: 'primary', firstTokenTimeoutMs: 2_500, plays: [{ silent: true }] },
				{ name: 'secondary', plays: [answer] },
			],
			{},
			{ realTime: true },
		);
		const result = await run();
		assert.equal(result.tier, 2);
		assert.equal(result.attempts[0].message, 'no first token in 2.5 s');
		assert.equal(log[0], 'primary silent');
		assert.deepEqual(texts, answer.chunks);
	});

	for (const [how, end] of [
		['cut by an overloaded error', { error: httpError(529, 'Overloaded') }],
		['stalled', 'stall'],
	] as const) {
		it(`a stream ${how} after 8 tokens is continued by the next tier: the whole text once`, async () => {
			const first = realistic('a', 8, 4);
			const rest = realistic('b', 10, 5);
			const { fakes, texts, run } = streamingChain(
				[
					{ name: 'primary', stallTimeoutMs: 1_000, plays: [{ ...first, end }] },
					{ name: 'secondary', provider: 'openai', plays: [rest] },
				],
				{},
				{ realTime: true },
			);
			const result = await run();
			const whole = text(first) + text(rest);
			assert.equal(texts.join(''), whole);
			assert.deepEqual(texts, [...first.chunks, ...rest.chunks], 'nothing repeated, nothing lost');
			assert.equal(result.text, whole);
			assert.deepEqual(result.continuedFrom, { tier: 1, chars: text(first).length });
			assert.deepEqual(fakes[1].requests[0].messages.slice(-2), [
				{ role: 'assistant', content: text(first) },
				{ role: 'user', content: CONTINUE_INSTRUCTION },
			]);
		});
	}
});
