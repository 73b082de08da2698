/**
 * The engine streaming, on a virtual clock with fake streaming providers (async generators):
 * text reaches the reader as it arrives, failures before the first text fail over unseen,
 * a provider that never starts or stalls is cut off at its limit, and a stream that broke
 * after it started is continued by the next try, so the reader gets one whole answer.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FailoverChain } from '../../lib/engine/failoverChain';
import { CONTINUE_INSTRUCTION } from '../../lib/providers/messageMapping';
import { httpError, wholeAnswer } from '../support/fakeStreams';
import { streamingChain } from '../support/streamingChain';
import { VirtualClock } from '../support/virtualClock';

const PROMPT = { role: 'user', content: 'Write.' };

describe('streaming through the chain', () => {
	it('passes each piece of text on as it arrives, before the provider sends the next', async () => {
		const chunks = ['The ', 'answer ', 'is ', 'here.'];
		const { log, texts, run } = streamingChain([
			{ name: 'p', plays: [{ chunks, firstMs: 800, gapMs: 50 }] },
		]);
		const result = await run();
		assert.deepEqual(log, [
			...chunks.flatMap((c) => [`p sent ${c}`, `reader got ${c}`]),
			'run resolved',
		]);
		assert.equal(result.outcome, 'answered');
		assert.equal(result.text, 'The answer is here.');
		assert.deepEqual(texts, chunks);
		assert.equal(result.continuedFrom, undefined);
		const [tried] = result.attempts;
		assert.equal(tried.streamed, true);
		assert.equal(tried.firstTokenMs, 800);
		assert.equal(tried.sentChars, 'The answer is here.'.length);
		assert.equal(result.tiers[0].firstTokenMs, 800);
		assert.equal(result.firstTokenMs, 800, 'the task reached its reader at 800 ms');
		assert.equal(result.latencyMs, 950);
	});

	it('a 529 before the first token is retried and failed over unseen: the reader sees only the answer', async () => {
		const { fakes, texts, run } = streamingChain([
			{ name: 'primary', attempts: 3, plays: [{ fail: httpError(529, 'Overloaded') }] },
			{ name: 'secondary', plays: [{ chunks: ['Second ', 'tier.'], firstMs: 300 }] },
		]);
		const result = await run();
		assert.equal(result.tier, 2);
		assert.deepEqual(texts, ['Second ', 'tier.']);
		assert.equal(result.text, 'Second tier.');
		assert.equal(fakes[0].calls, 3, 'retried as the policy says');
		assert.deepEqual(
			result.attempts.map((a) => [a.tier, a.errorClass, a.sentChars, a.decision]),
			[
				[1, 'overloaded', 0, 'retry'],
				[1, 'overloaded', 0, 'retry'],
				[1, 'overloaded', 0, 'next_tier'],
				[2, undefined, 12, 'stop'],
			],
		);
		assert.equal(result.continuedFrom, undefined);
		// The task's first text counts the failover before it: the primary's tries and waits.
		const waited = result.attempts.reduce((sum, a) => sum + a.waitedMs, 0);
		assert.ok(waited > 0);
		assert.equal(result.firstTokenMs, waited + 300);
		assert.equal(result.attempts[3].firstTokenMs, 300, "the answering try's own first token");
	});

	it('a provider that accepts and sends nothing is abandoned at the first-token timeout for the next tier, not retried', async () => {
		const { fakes, texts, run } = streamingChain([
			{ name: 'primary', attempts: 3, plays: [{ silent: true }] },
			{ name: 'secondary', plays: [{ chunks: ['Here.'] }] },
		]);
		const result = await run();
		assert.equal(result.tier, 2);
		assert.deepEqual(texts, ['Here.']);
		assert.equal(fakes[0].calls, 1, 'attempts left on the tier are not spent on a stuck model');
		const [first] = result.attempts;
		assert.equal(first.errorClass, 'timeout');
		assert.equal(first.message, 'no first token in 2 s');
		assert.equal(first.latencyMs, 2_000, 'cut off at its first-token timeout, not the try timeout');
		assert.equal(first.firstTokenMs, undefined);
		assert.equal(first.decision, 'next_tier');
		assert.equal(result.firstTokenMs, 2_000, 'the reader waited one first-token timeout');
	});

	it('a stream that stalls mid-answer is continued by the next tier: the whole text once, continuedFrom set', async () => {
		const { fakes, texts, run } = streamingChain([
			{ name: 'primary', plays: [{ chunks: ['One, ', 'two, '], gapMs: 100, end: 'stall' }] },
			{ name: 'secondary', provider: 'openai', plays: [{ chunks: ['three, ', 'four.'] }] },
		]);
		const result = await run();
		assert.equal(result.outcome, 'answered');
		assert.equal(texts.join(''), 'One, two, three, four.');
		assert.equal(result.text, 'One, two, three, four.');
		assert.deepEqual(result.continuedFrom, { tier: 1, chars: 'One, two, '.length });
		const [broken] = result.attempts;
		assert.equal(broken.errorClass, 'timeout');
		assert.equal(broken.sentChars, 10);
		assert.equal(broken.latencyMs, 100 + 1_000, 'cut off one stall timeout after its last chunk');
		assert.match(broken.message ?? '', /after 10 characters streamed: the stream stalled/);
		// OpenAI does not continue a final assistant message: it is asked to continue.
		assert.deepEqual(fakes[1].requests[0].messages, [
			PROMPT,
			{ role: 'assistant', content: 'One, two, ' },
			{ role: 'user', content: CONTINUE_INSTRUCTION },
		]);
	});

	it('an error mid-stream is retried on the same tier, which continues the text as its own (prefill, without the trailing space Anthropic refuses)', async () => {
		const { fakes, texts, run } = streamingChain([
			{
				name: 'primary',
				attempts: 2,
				plays: [
					{ chunks: ['Alpha ', 'beta '], end: { error: httpError(500, 'Internal error') } },
					// The model continues "Alpha beta" with the space the prefill lost; the reader has it.
					{ chunks: [' gamma.'] },
				],
			},
		]);
		const result = await run();
		assert.deepEqual(texts, ['Alpha ', 'beta ', 'gamma.']);
		assert.equal(result.text, 'Alpha beta gamma.');
		assert.deepEqual(result.continuedFrom, { tier: 1, chars: 11 });
		assert.deepEqual(
			result.attempts.map((a) => [a.attempt, a.status, a.errorClass, a.decision]),
			[
				[1, 'failed', 'server_error', 'retry'],
				[2, 'ok', undefined, 'stop'],
			],
		);
		assert.deepEqual(fakes[0].requests[0].messages, [PROMPT]);
		assert.deepEqual(fakes[0].requests[1].messages, [
			PROMPT,
			{ role: 'assistant', content: 'Alpha beta' },
		]);
	});

	it('tool calls are passed on only from a finished answer, once each, never from a broken stream', async () => {
		const lookUp = { id: 'call_1', name: 'lookUp', arguments: { q: 'order 7' } };
		const fetchIt = { id: 'call_2', name: 'fetch', arguments: { id: 7 } };
		const { texts, run } = streamingChain([
			{
				name: 'primary',
				plays: [{ chunks: ['Let me look. '], toolCalls: [lookUp], end: { error: httpError(502) } }],
			},
			{ name: 'secondary', plays: [{ chunks: ['Fetching. '], toolCalls: [fetchIt] }] },
		]);
		const result = await run();
		assert.deepEqual(result.toolCalls, [fetchIt]);
		assert.deepEqual(texts, ['Let me look. ', 'Fetching. ']);
		assert.equal(result.text, 'Let me look. Fetching. ');
	});

	it('JSON output is not streamed: only the checked whole answer is sent, once, and a broken one is asked afresh', async () => {
		const { fakes, texts, run } = streamingChain(
			[
				{
					name: 'primary',
					attempts: 3,
					plays: [
						{ chunks: ['{"ok":', ' tr'], end: { error: httpError(500) } },
						{ chunks: ['not ', 'JSON'] },
						{ chunks: ['{"ok":', ' true}'] },
					],
				},
			],
			{ output: { json: true } },
		);
		const result = await run();
		assert.deepEqual(texts, ['{"ok": true}']);
		assert.deepEqual(result.json, { ok: true });
		assert.equal(result.continuedFrom, undefined);
		assert.deepEqual(
			result.attempts.map((a) => [a.errorClass, a.sentChars]),
			[
				['server_error', 0],
				['invalid_output', 0],
				[undefined, 12],
			],
		);
		for (const request of fakes[0].requests) assert.deepEqual(request.messages, [PROMPT]);
	});

	it('an answer cut at the token limit after streaming is continued by the next tier; a refusal is not', async () => {
		const cut = streamingChain([
			{ name: 'primary', plays: [{ chunks: ['Part one '], finish: 'length' }] },
			{ name: 'secondary', plays: [{ chunks: ['and part two.'] }] },
		]);
		const continued = await cut.run();
		assert.equal(cut.texts.join(''), 'Part one and part two.');
		assert.equal(continued.text, 'Part one and part two.');
		assert.deepEqual(continued.continuedFrom, { tier: 1, chars: 9 });
		assert.equal(continued.attempts[0].errorClass, 'truncated');
		assert.deepEqual(cut.fakes[1].requests[0].messages, [
			PROMPT,
			{ role: 'assistant', content: 'Part one' },
		]);

		const refusing = streamingChain([
			{ name: 'primary', plays: [{ chunks: ['I cannot ', 'help.'], finish: 'refusal' }] },
			{ name: 'secondary', plays: [{ chunks: ['Here it is.'] }] },
		]);
		const answered = await refusing.run();
		// The reader already has the refusal; the answer follows it, and is the result's text.
		assert.deepEqual(refusing.texts, ['I cannot ', 'help.', 'Here it is.']);
		assert.equal(answered.text, 'Here it is.');
		assert.equal(answered.continuedFrom, undefined);
		assert.deepEqual(refusing.fakes[1].requests[0].messages, [PROMPT]);
		assert.deepEqual(
			answered.attempts.map((a) => [a.errorClass, a.sentChars]),
			[
				['refused', 14],
				[undefined, 11],
			],
		);
	});

	it('a high-stakes task still refuses to degrade: a broken stream is not continued by a weaker model', async () => {
		const { fakes, texts, run } = streamingChain(
			[
				{ name: 'primary', plays: [{ chunks: ['Half '], end: { error: httpError(503) } }] },
				{ name: 'weaker', plays: [{ chunks: ['rest.'] }] },
			],
			{ criticality: 'high_stakes' },
		);
		const result = await run();
		assert.equal(result.outcome, 'needs_human');
		assert.equal(result.reason, 'degrade_not_allowed');
		assert.equal(fakes[1].calls, 0);
		assert.deepEqual(texts, ['Half ']);
	});

	it('the deadline bounds a stream that never ends, and a provider that never starts', async () => {
		const endless = Array.from({ length: 100 }, (_, i) => `w${i} `);
		const slow = streamingChain(
			[
				{ name: 'primary', plays: [{ chunks: endless, gapMs: 400 }] },
				{ name: 'secondary', plays: [{ chunks: ['unused'] }] },
			],
			{ deadlineMs: 5_000 },
		);
		const result = await slow.run();
		assert.equal(result.outcome, 'needs_human');
		assert.equal(result.reason, 'deadline_exceeded');
		assert.equal(result.latencyMs, 5_000);
		assert.equal(slow.fakes[1].calls, 0);
		const sent = slow.log.filter((line) => line.startsWith('primary sent')).length;
		assert.equal(
			slow.texts.length,
			sent,
			'every piece sent before the deadline reached the reader',
		);
		assert.equal(sent, 13, 'pieces at 0, 400, ... 4800 ms');

		const silent = streamingChain([{ name: 'primary', plays: [{ silent: true }] }], {
			deadlineMs: 1_500,
		});
		const none = await silent.run();
		assert.equal(none.reason, 'deadline_exceeded');
		assert.equal(none.latencyMs, 1_500, 'the deadline came before the first-token timeout');
		assert.deepEqual(silent.texts, []);
	});

	it('an adapter that cannot stream answers whole: its text goes to the reader at once', async () => {
		const clock = new VirtualClock();
		const chain = new FailoverChain(
			{ tiers: [{ provider: 'anthropic', model: 'm', apiKey: 'sk-test-key' }] },
			{ clock, adapterFor: () => wholeAnswer('Whole answer.') },
		);
		const texts: string[] = [];
		const result = await clock.run(
			chain.run({ prompt: 'Write.' }, { onText: (delta) => texts.push(delta) }),
		);
		assert.deepEqual(texts, ['Whole answer.']);
		assert.equal(result.text, 'Whole answer.');
		assert.equal(result.attempts[0].streamed, undefined);
	});
});
