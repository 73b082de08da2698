/**
 * Faults in the middle of a stream, as each official SDK meets them: a cut connection, a
 * stall, the provider's error event and its overloaded event inside the 200 stream, after
 * the chunks the rule says. Calls not streamed get the nearest whole-answer fault. The
 * scenario's stream fields are checked, naming the field at fault.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import { ApiError } from '@google/genai';
import OpenAI from 'openai';

import { parseScenario } from '../../lib/emulator/scenario';
import type { WireProvider } from '../../lib/emulator/wire';
import { KEYS, MODELS, WIRE_PROVIDERS, useEmulator } from '../support/emulator';
import { newStreamed, streamFrom } from '../support/streamClients';

const ctx = useEmulator();

const REPLY = 'one two three four five six seven eight nine ten';
const ASK = [{ role: 'user' as const, content: 'Count to ten.' }];

/** Streams with the fault on every call, and returns what arrived and what was thrown. */
async function faulty(wire: WireProvider, rule: object, signal?: AbortSignal) {
	ctx.emulator.loadScenario({ reply: REPLY, rules: [rule] });
	const got = newStreamed();
	const error = await streamFrom(ctx.emulator, wire, { messages: ASK, signal }, got).then(
		() => undefined,
		(e: unknown) => e,
	);
	return { got, error };
}

/** The error each SDK throws for the provider's error event inside a 200 stream. */
const EXPECTED: Record<WireProvider, (error: unknown, overloaded: boolean) => void> = {
	anthropic: (error, overloaded) => {
		assert.ok(error instanceof Anthropic.APIError, String(error));
		assert.equal(error.type, overloaded ? 'overloaded_error' : 'api_error');
	},
	openai: (error, overloaded) => {
		assert.ok(error instanceof OpenAI.APIError, String(error));
		assert.match(error.message, overloaded ? /overloaded/ : /server had an error/);
	},
	gemini: (error, overloaded) => {
		assert.ok(error instanceof ApiError, String(error));
		assert.equal(error.status, overloaded ? 503 : 500);
	},
	ollama: (error, overloaded) => {
		assert.ok(error instanceof Error);
		assert.match(error.message, overloaded ? /server busy/ : /llama runner/);
	},
};

describe('faults in the middle of a stream', () => {
	for (const wire of WIRE_PROVIDERS) {
		for (const overloaded of [false, true]) {
			const fault = overloaded ? 'stream_overloaded' : 'stream_error';
			it(`${wire}: ${fault} after 3 chunks is the SDK's own error`, async () => {
				const { got, error } = await faulty(wire, { provider: wire, fault, afterChunks: 3 });
				assert.deepEqual(got.texts, ['one', ' two', ' three']);
				assert.equal(got.usage?.output ?? 0, 0, 'no usage: the answer never ended');
				EXPECTED[wire](error, overloaded);
			});
		}

		it(`${wire}: stream_cut after 4 chunks breaks the stream`, async () => {
			const { got, error } = await faulty(wire, {
				provider: wire,
				fault: 'stream_cut',
				afterChunks: 4,
			});
			assert.equal(got.texts.join(''), 'one two three four');
			assert.ok(error instanceof Error, 'the client sees the connection end early');
			assert.equal(got.order.includes('finish'), false);
		});

		it(`${wire}: stream_stall after half the chunks sends nothing more`, async () => {
			const stalled = AbortSignal.timeout(400);
			const { got } = await faulty(
				wire,
				{ provider: wire, fault: 'stream_stall', afterShare: 0.5 },
				stalled,
			);
			assert.equal(got.texts.length, 5, 'half of ten words, then silence');
			assert.equal(got.order.includes('finish'), false, 'the stream never ends by itself');
			assert.ok(stalled.aborted, 'only the client giving up ended it');
		});
	}

	it('a stall after 0 chunks: the 200 and its headers, then nothing', async () => {
		ctx.emulator.loadScenario({ rules: [{ fault: 'stream_stall', afterChunks: 0 }] });
		const client = new Anthropic({
			apiKey: KEYS.anthropic,
			baseURL: ctx.emulator.urls.anthropic,
			maxRetries: 0,
		});
		const signal = AbortSignal.timeout(400);
		const { data: stream, response } = await client.messages
			.create({ model: MODELS.anthropic, max_tokens: 100, messages: ASK, stream: true }, { signal })
			.withResponse();
		assert.equal(response.status, 200);
		const events: string[] = [];
		for await (const event of stream) events.push(event.type);
		assert.deepEqual(events, []);
		assert.ok(signal.aborted);
	});

	it('the fault never falls after the last chunk: afterChunks past the end stops before it', async () => {
		const { got, error } = await faulty('openai', { fault: 'stream_error', afterChunks: 99 });
		assert.equal(got.texts.join(''), REPLY, 'every piece of text arrived');
		assert.equal(got.order.includes('finish'), false, 'but not the end');
		EXPECTED.openai(error, false);
	});

	it('a call not streamed gets the nearest whole-answer fault', async () => {
		const post = async (fault: string) => {
			ctx.emulator.loadScenario({ rules: [{ fault }] });
			return fetch(`${ctx.emulator.urls.anthropic}/v1/messages`, {
				method: 'POST',
				headers: { 'x-api-key': KEYS.anthropic },
				body: JSON.stringify({ model: MODELS.anthropic, max_tokens: 10, messages: ASK }),
				signal: AbortSignal.timeout(2_000),
			});
		};
		assert.equal((await post('stream_error')).status, 500);
		const overloaded = await post('stream_overloaded');
		assert.equal(overloaded.status, 529);
		assert.equal(
			((await overloaded.json()) as { error: { type: string } }).error.type,
			'overloaded_error',
		);
		const cut = await post('stream_cut');
		assert.equal(cut.status, 200);
		await assert.rejects(cut.text(), /terminated/);
		const stalled = await post('stream_stall');
		assert.equal(stalled.status, 200, 'the headers arrive');
		await assert.rejects(stalled.text(), /TimeoutError|aborted/);
	});

	it('the older transport faults on a stream: a cut mid-body, malformed JSON, a slow drip', async () => {
		const cut = await faulty('openai', { fault: 'drop_mid_body' });
		assert.equal(cut.got.texts.length, 5, 'half the chunks, then the cut');
		assert.ok(cut.error instanceof Error);
		const malformed = await faulty('openai', { fault: 'malformed' });
		assert.ok(malformed.error instanceof Error && /JSON/.test(malformed.error.message));
		const drip = await faulty('anthropic', { fault: 'slow_drip', dripSeconds: 0.3 });
		assert.equal(drip.error, undefined);
		assert.equal(drip.got.texts.join(''), REPLY, 'the whole stream arrives, a byte at a time');
	});

	it('checks the stream fields, naming the one at fault', () => {
		const bad: [object, RegExp][] = [
			[{ rules: [{ fault: 'stream_cut', afterChunks: -1 }] }, /rules\[0\]\.afterChunks/],
			[
				{ rules: [{ fault: 'stream_cut', afterChunks: 1.5 }] },
				/rules\[0\]\.afterChunks: must be a whole/,
			],
			[{ rules: [{ fault: 'stream_cut', afterShare: 2 }] }, /rules\[0\]\.afterShare/],
			[
				{ rules: [{ fault: 'stream_cut', afterChunks: 1, afterShare: 0.5 }] },
				/rules\[0\]\.afterShare: give afterChunks or afterShare/,
			],
			[
				{ rules: [{ fault: 'overloaded', afterChunks: 2 }] },
				/rules\[0\]\.afterChunks: applies only to the stream faults/,
			],
			[{ rules: [{ fault: 'stream_snap' }] }, /rules\[0\]\.fault: unknown fault/],
			[
				{ rules: [{ stream: { firstTokenMs: [900, 400] } }] },
				/rules\[0\]\.stream\.firstTokenMs: min 900 is above max 400/,
			],
			[{ rules: [{ stream: { speed: 3 } }] }, /rules\[0\]\.stream\.speed: unknown/],
			[{ stream: { tokensPerSecond: 0 } }, /scenario stream\.tokensPerSecond/],
			[
				{ stream: { chunkTokens: [1, 2, 3] } },
				/stream\.chunkTokens: must be a number or \[min, max\]/,
			],
			[
				{ stream: { answerTokens: [10, 20.5] } },
				/stream\.answerTokens\[1\]: must be a whole number/,
			],
			[{ stream: 'fast' }, /scenario stream: must be an object/],
			[{ profile: 'fast' }, /scenario profile: unknown profile "fast"; use instant, realistic/],
			[{ seed: -1 }, /scenario seed/],
		];
		for (const [scenario, message] of bad) assert.throws(() => parseScenario(scenario), message);
		parseScenario({
			profile: 'realistic',
			seed: 7,
			stream: { firstTokenMs: [400, 900], tokensPerSecond: 60, chunkTokens: [1, 3] },
			rules: [{ fault: 'stream_cut', afterShare: 0.3, stream: { answerTokens: 200 } }],
		});
	});
});
