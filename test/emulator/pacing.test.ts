/**
 * Real-world pacing: time to the first token, tokens per second, chunk size and generated
 * answers, per scenario, per rule and as the named `realistic` profile, drawn from a seeded
 * sequence. Asserted on the order things arrive in, never on wall-clock bounds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { generatedText, tokensOf } from '../../lib/emulator/answerText';
import { parseScenario } from '../../lib/emulator/scenario';
import type { Scenario } from '../../lib/emulator/scenario';
import { ScenarioState } from '../../lib/emulator/scenarioState';
import { ProviderEmulator } from '../../lib/emulator/server';
import { KEYS, MODELS, useEmulator } from '../support/emulator';
import { streamFrom } from '../support/streamClients';

const ctx = useEmulator();

const ASK = [{ role: 'user' as const, content: 'Tell me about the weather.' }];
const paces = (scenario: Scenario, n = 5) => {
	const state = new ScenarioState(parseScenario(scenario), Math.random, 0);
	return Array.from({ length: n }, () => state.decide('anthropic', MODELS.anthropic, 0).pace);
};

/** A whole (not streamed) OpenAI answer; resolves when its body has arrived. */
async function whole(emulator: ProviderEmulator, model = MODELS.openai): Promise<string> {
	const response = await fetch(`${emulator.urls.openai}/chat/completions`, {
		method: 'POST',
		headers: { authorization: `Bearer ${KEYS.openai}` },
		body: JSON.stringify({ model, messages: ASK }),
	});
	const body = (await response.json()) as { choices: { message: { content: string } }[] };
	return body.choices[0].message.content;
}

describe('pacing', () => {
	it('realistic: the first chunk comes late, the rest one by one, while a fast model answers', async () => {
		ctx.emulator.loadScenario({
			profile: 'realistic',
			stream: { answerTokens: 40 },
			// The fast model: the same profile with no wait to speak of.
			rules: [{ provider: 'openai', stream: { firstTokenMs: 0, tokensPerSecond: 1e6 } }],
		});
		const events: string[] = [];
		const slow = streamFrom(ctx.emulator, 'anthropic', { messages: ASK }).then((got) => {
			events.push('slow done');
			return got;
		});
		await whole(ctx.emulator).then(() => events.push('fast done'));
		const got = await slow;
		assert.deepEqual(
			events,
			['fast done', 'slow done'],
			'the fast answer came while the slow one was pending',
		);
		assert.ok(got.texts.length > 5, `${got.texts.length} chunks`);
		assert.equal(
			tokensOf(got.texts.join('')).length,
			40,
			'a generated answer of answerTokens words',
		);
		const [first, last] = [got.textAt[0], got.textAt[got.textAt.length - 1]];
		assert.ok(first < last, 'the first chunk arrived before the last was sent');
		const spread = new Set(got.textAt.map((t) => Math.round(t)));
		assert.ok(spread.size > 5, 'the chunks arrived at many different moments');
	});

	it('a whole answer takes its tokens` time too when paced, and none by default', async () => {
		ctx.emulator.loadScenario({
			reply: 'A paced answer of several words.',
			rules: [
				{
					provider: 'openai',
					model: 'slow-model',
					stream: { firstTokenMs: 300, tokensPerSecond: 20 },
				},
			],
		});
		const order: string[] = [];
		const slow = whole(ctx.emulator, 'slow-model').then(() => order.push('paced'));
		await whole(ctx.emulator).then(() => order.push('instant'));
		await slow;
		assert.deepEqual(order, ['instant', 'paced']);
	});

	it('realistic draws 400-900 ms to the first token, 40-80 tokens/s and 150-600-word answers', () => {
		const drawn = paces({ profile: 'realistic' }, 50);
		for (const pace of drawn) {
			assert.ok(
				pace && pace.firstTokenMs >= 400 && pace.firstTokenMs <= 900,
				String(pace?.firstTokenMs),
			);
			assert.ok(pace.msPerToken >= 1000 / 80 && pace.msPerToken <= 1000 / 40);
			assert.deepEqual(pace.answerTokens, [150, 600]);
		}
		const lengths = ['a', 'b', 'c', 'd', 'e'].map(
			(prompt) => tokensOf(generatedText(21, prompt, [150, 600])).length,
		);
		assert.ok(
			lengths.every((n) => n >= 150 && n <= 600),
			String(lengths),
		);
		assert.ok(new Set(lengths).size > 1, 'lengths vary by prompt');
		assert.equal(
			paces({}).every((pace) => pace === undefined),
			true,
			'instant by default: no pacing',
		);
	});

	it('is seeded: the same seed draws the same pacing and text, another seed others', () => {
		const scenario: Scenario = { profile: 'realistic', seed: 7 };
		assert.deepEqual(paces(scenario), paces(scenario));
		assert.notDeepEqual(paces(scenario), paces({ ...scenario, seed: 8 }));
		assert.equal(generatedText(7, 'hi', 50), generatedText(7, ' hi\n', 50));
		assert.notEqual(generatedText(7, 'hi', 50), generatedText(8, 'hi', 50));
	});

	it('draws a pace from the seed, the model and the prompt, whatever order the calls come in', () => {
		const state = () => new ScenarioState(parseScenario({ profile: 'realistic' }), Math.random, 0);
		const pace = (s: ScenarioState, model: string, prompt: string) =>
			s.decide('anthropic', model, 0, undefined, prompt).pace;
		const prompts = ['Ticket 1', 'Ticket 2', 'Ticket 3', 'Ticket 4'];
		const forward = state();
		const inOrder = prompts.map((p) => pace(forward, MODELS.anthropic, p));
		const backward = state();
		const reversed = [...prompts].reverse().map((p) => pace(backward, MODELS.anthropic, p));
		assert.deepEqual(reversed.reverse(), inOrder, 'the same pace per prompt in either order');
		assert.ok(
			new Set(inOrder.map((p) => p?.firstTokenMs)).size > 1,
			'prompts are paced differently',
		);
		assert.notDeepEqual(
			pace(state(), 'another-model', prompts[0]),
			inOrder[0],
			'another model draws another pace',
		);
	});

	it('a rule`s stream fields go over the scenario`s, which go over the profile`s', () => {
		const state = new ScenarioState(
			parseScenario({
				profile: 'realistic',
				stream: { firstTokenMs: 100, chunkTokens: 2 },
				rules: [{ provider: 'anthropic', stream: { chunkTokens: 5 } }],
			}),
			Math.random,
			0,
		);
		const ruled = state.decide('anthropic', MODELS.anthropic, 0).pace;
		const other = state.decide('gemini', MODELS.gemini, 0).pace;
		assert.equal(ruled?.firstTokenMs, 100);
		assert.equal(ruled?.chunkTokens, 5);
		assert.equal(other?.chunkTokens, 2);
		assert.deepEqual(other?.answerTokens, [150, 600], 'the profile`s where neither says');
	});

	it('the start option sets the profile of a scenario that names none', async () => {
		const emulator = new ProviderEmulator({
			profile: 'realistic',
			scenario: { stream: { tokensPerSecond: 1e6, firstTokenMs: 0 } },
		});
		await emulator.start();
		try {
			const text = await whole(emulator);
			const words = tokensOf(text).length;
			assert.ok(
				words >= 150 && words <= 600,
				`generated, as realistic answers are: ${words} words`,
			);
			emulator.loadScenario({ profile: 'instant' });
			assert.match(await whole(emulator), /^Emulated answer from openai/);
		} finally {
			await emulator.stop();
		}
	});
});
