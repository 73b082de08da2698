/**
 * The emulator streams in each provider's own format, read by each provider's official SDK
 * streaming API (Ollama: its NDJSON, read with fetch): text in several chunks and in order,
 * tool-call arguments in pieces that reassemble, usage at the end.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { KEYS, MODELS, WIRE_PROVIDERS, useEmulator } from '../support/emulator';
import { streamFrom } from '../support/streamClients';

const ctx = useEmulator();

const REPLY = 'The order A-1001 left the warehouse on Monday and arrives on Thursday.';
const ASK = [{ role: 'user' as const, content: 'Where is my order?' }];
const ARGS = { orderId: 'A-1001', reason: 'The parcel arrived damaged in transit' };

describe('streamed answers, read by each official SDK', () => {
	for (const wire of WIRE_PROVIDERS) {
		it(`${wire}: the text in several chunks, in order, then the usage`, async () => {
			ctx.emulator.loadScenario({ reply: REPLY });
			const got = await streamFrom(ctx.emulator, wire, { messages: ASK });
			assert.equal(got.texts.length, REPLY.split(' ').length, 'one word to a chunk by default');
			assert.equal(got.texts.join(''), REPLY);
			assert.ok(got.usage && got.usage.input > 0 && got.usage.output > 0, 'usage arrives');
			assert.equal(got.order.lastIndexOf('text'), got.texts.length - 1, 'all text comes first');
			assert.ok(got.order.indexOf('usage') > got.order.lastIndexOf('text'), 'usage comes last');
			assert.match(got.finish ?? '', /^(end_turn|stop|STOP)$/);
		});

		it(`${wire}: a tool call, its arguments in pieces, reassembles`, async () => {
			ctx.emulator.loadScenario({
				turns: [{ reply: 'Let me check.', toolCalls: [{ name: 'lookup_order', arguments: ARGS }] }],
			});
			const got = await streamFrom(ctx.emulator, wire, { messages: ASK, tools: true });
			assert.equal(got.texts.join(''), 'Let me check.');
			assert.deepEqual(got.toolCalls, [{ name: 'lookup_order', arguments: ARGS }]);
			assert.ok(got.order.indexOf('tool') > got.order.lastIndexOf('text'), 'text, then the call');
			// Gemini and Ollama send a call whole; Anthropic and OpenAI stream its arguments.
			if (wire === 'anthropic' || wire === 'openai')
				assert.ok(got.toolPieces > 3, `arguments in ${got.toolPieces} pieces`);
			assert.match(got.finish ?? '', /^(tool_use|tool_calls|STOP|stop)$/);
		});
	}

	it('the chunk size is the scenario`s: chunkTokens words to a chunk', async () => {
		ctx.emulator.loadScenario({ reply: REPLY, stream: { chunkTokens: 4 } });
		const got = await streamFrom(ctx.emulator, 'openai', { messages: ASK });
		assert.equal(got.texts.length, Math.ceil(REPLY.split(' ').length / 4));
		assert.equal(got.texts[0], 'The order A-1001 left');
		assert.equal(got.texts.join(''), REPLY);
	});

	it('output faults stream too: a truncated answer stops at the token limit', async () => {
		ctx.emulator.loadScenario({ reply: REPLY, rules: [{ fault: 'truncated' }] });
		const anthropic = await streamFrom(ctx.emulator, 'anthropic', { messages: ASK });
		assert.equal(anthropic.finish, 'max_tokens');
		assert.ok(REPLY.startsWith(anthropic.texts.join('')) && anthropic.texts.length > 1);
		const openai = await streamFrom(ctx.emulator, 'openai', { messages: ASK });
		assert.equal(openai.finish, 'length');
	});

	it('records whether each call was streamed', async () => {
		ctx.emulator.loadScenario({ reply: REPLY });
		ctx.emulator.resetCounts();
		await streamFrom(ctx.emulator, 'anthropic', { messages: ASK });
		const whole = await fetch(`${ctx.emulator.urls.anthropic}/v1/messages`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', 'x-api-key': KEYS.anthropic },
			body: JSON.stringify({ model: MODELS.anthropic, max_tokens: 10, messages: ASK }),
		});
		assert.equal(((await whole.json()) as { content: { text: string }[] }).content[0].text, REPLY);
		for (const path of ['/_emulator/requests', '/_emulator/calls']) {
			const calls = (await (await fetch(`${ctx.emulator.baseUrl}${path}`)).json()) as {
				stream: boolean;
			}[];
			assert.deepEqual(
				calls.map((c) => c.stream),
				[true, false],
				path,
			);
		}
		assert.equal(ctx.emulator.answers('anthropic'), 2, 'a whole stream counts as an answer');
	});

	it('Gemini streams on both API versions, as server-sent events', async () => {
		ctx.emulator.loadScenario({ reply: REPLY });
		for (const version of ['v1', 'v1beta']) {
			const response = await fetch(
				`${ctx.emulator.baseUrl}/${version}/models/${MODELS.gemini}:streamGenerateContent?alt=sse`,
				{
					method: 'POST',
					headers: { 'x-goog-api-key': KEYS.gemini },
					body: JSON.stringify({ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }),
				},
			);
			assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
			const events = (await response.text()).split('\n\n').filter(Boolean);
			assert.equal(events.length, REPLY.split(' ').length, version);
			assert.ok(events.every((e) => e.startsWith('data: {')));
		}
	});

	it('OpenAI sends usage only when include_usage asks, and ends with [DONE]', async () => {
		ctx.emulator.loadScenario({ reply: 'Short answer.' });
		const response = await fetch(`${ctx.emulator.urls.openai}/chat/completions`, {
			method: 'POST',
			headers: { authorization: `Bearer ${KEYS.openai}` },
			body: JSON.stringify({ model: MODELS.openai, messages: ASK, stream: true }),
		});
		const body = await response.text();
		assert.doesNotMatch(body, /usage/);
		assert.ok(body.endsWith('data: [DONE]\n\n'));
	});
});
