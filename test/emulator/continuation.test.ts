/**
 * Continuing a broken stream: a request whose conversation ends with the partial answer
 * (alone, a prefill, or followed by CONTINUE_INSTRUCTION) gets the rest of the answer only,
 * so the reader sees one whole text, on the same provider or after a failover.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';

import type { WireProvider } from '../../lib/emulator/wire';
import { CONTINUE_INSTRUCTION, continuationMessages } from '../../lib/providers/messageMapping';
import { providerOf } from '../../lib/providers/registry';
import type { ChatMessage } from '../../lib/providers/types';
import { KEYS, MODELS, WIRE_PROVIDERS, useEmulator } from '../support/emulator';
import { newStreamed, streamFrom } from '../support/streamClients';
import type { Turn } from '../support/streamClients';

const ctx = useEmulator();

const REPLY = 'Your parcel left the depot this morning and should reach you by Thursday noon.';
const ASK: ChatMessage[] = [{ role: 'user', content: 'Where is my parcel?' }];

/** The continuation's turns as text, for the streaming clients. */
function turns(sent: string, wire: WireProvider): Turn[] {
	return continuationMessages(ASK, sent, providerOf(wire).prefill).map((m) => ({
		role: m.role === 'assistant' ? 'assistant' : 'user',
		content: m.content,
	}));
}

/** What a stream cut after `chunks` chunks delivered. */
async function cutAfter(wire: WireProvider, chunks: number): Promise<string> {
	const got = newStreamed();
	await assert.rejects(streamFrom(ctx.emulator, wire, { messages: turns('', wire) }, got));
	assert.equal(got.texts.length, chunks);
	return got.texts.join('');
}

describe('continuing a broken stream', () => {
	it('the conversation for the next attempt: a prefill, or the partial answer and an instruction', () => {
		assert.deepEqual(continuationMessages(ASK, 'Your parcel', true), [
			...ASK,
			{ role: 'assistant', content: 'Your parcel' },
		]);
		assert.deepEqual(continuationMessages(ASK, 'Your parcel', false), [
			...ASK,
			{ role: 'assistant', content: 'Your parcel' },
			{ role: 'user', content: CONTINUE_INSTRUCTION },
		]);
		assert.equal(continuationMessages(ASK, '', false), ASK, 'nothing sent: nothing to continue');
		assert.deepEqual(
			WIRE_PROVIDERS.filter((wire) => providerOf(wire).prefill),
			['anthropic'],
		);
	});

	for (const wire of WIRE_PROVIDERS) {
		it(`${wire}: after a cut, the next request gets the rest of the answer only`, async () => {
			ctx.emulator.loadScenario({
				reply: REPLY,
				rules: [{ provider: wire, fault: 'stream_cut', afterChunks: 5, times: 1 }],
			});
			ctx.emulator.resetCounts();
			const sent = await cutAfter(wire, 5);
			const rest = await streamFrom(ctx.emulator, wire, { messages: turns(sent, wire) });
			assert.equal(sent + rest.texts.join(''), REPLY, 'one whole answer, nothing repeated or lost');
			assert.ok(rest.texts.length > 1, 'the rest streams too');
			assert.ok(rest.usage && rest.usage.output < Math.ceil(REPLY.length / 4), 'usage of the rest');
			const calls = ctx.emulator.received(wire);
			assert.deepEqual(
				calls.map((c) => c.turn),
				[0, 0],
				'the partial answer is not a turn of the conversation',
			);
			const prompt = [...ctx.emulator.promptCounts().values()];
			assert.deepEqual(
				prompt,
				[{ calls: 2, answered: 1 }],
				'one prompt, asked twice, answered once',
			);
		});
	}

	it('after a failover: a generated answer is the same on every provider, so another continues it', async () => {
		ctx.emulator.loadScenario({
			stream: { answerTokens: 30 },
			rules: [{ provider: 'anthropic', fault: 'stream_cut', afterChunks: 10 }],
		});
		const sent = await cutAfter('anthropic', 10);
		const rest = await streamFrom(ctx.emulator, 'openai', { messages: turns(sent, 'openai') });
		const whole = await streamFrom(ctx.emulator, 'openai', { messages: turns('', 'openai') });
		assert.equal(sent + rest.texts.join(''), whole.texts.join(''));
		assert.equal(whole.texts.length, 30);
	});

	it('a partial answer that is not the start of its answer gets the whole answer', async () => {
		ctx.emulator.loadScenario({ reply: REPLY });
		const got = await streamFrom(ctx.emulator, 'gemini', {
			messages: turns('Something else', 'gemini'),
		});
		assert.equal(got.texts.join(''), REPLY);
	});

	it('Anthropic refuses a prefill that ends in whitespace, as the API does', async () => {
		ctx.emulator.loadScenario({ reply: REPLY });
		const client = new Anthropic({
			apiKey: KEYS.anthropic,
			baseURL: ctx.emulator.urls.anthropic,
			maxRetries: 0,
		});
		await assert.rejects(
			client.messages.create({
				model: MODELS.anthropic,
				max_tokens: 100,
				// Built by hand: continuationMessages trims the space for this reason.
				messages: [...turns('', 'anthropic'), { role: 'assistant', content: 'Your parcel ' }],
				stream: true,
			}),
			(error: unknown) =>
				error instanceof Anthropic.BadRequestError &&
				/final assistant content cannot end with trailing whitespace/.test(error.message),
		);
	});
});
