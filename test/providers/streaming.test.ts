/**
 * Each provider's adapter streaming through its real SDK against the emulator's streams: text
 * in several pieces as it comes, tool calls passed on only whole, `done` last with the answer
 * complete() gives, errors before the first chunk and mid-stream read as classifyError reads
 * them, and an abort that ends the stream.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { classifyError } from '../../lib/engine/classifyError';
import type { Scenario } from '../../lib/emulator/scenario';
import { PROVIDER_NAMES, providerOf } from '../../lib/providers/registry';
import type {
	CompletionRequest,
	CompletionResponse,
	ProviderName,
	StreamEvent,
} from '../../lib/providers/types';
import { KEYS, MODELS, useEmulator } from '../support/emulator';

const ctx = useEmulator();

const REPLY = 'The quick brown fox jumps over the lazy dog, then naps in the warm afternoon sun.';
/** Small chunks: a reply of this length arrives in many pieces. */
const PACED = { chunkTokens: 2 };

const TOOLS = [
	{
		name: 'get_weather',
		description: 'The weather in a city',
		parameters: { type: 'object', properties: { city: { type: 'string' } } },
	},
	{
		name: 'get_time',
		parameters: { type: 'object', properties: { zone: { type: 'string' } } },
	},
];
const CALLS = [
	{ name: 'get_weather', arguments: { city: 'Paris', days: 3, units: { temp: 'celsius' } } },
	{ name: 'get_time', arguments: { zone: 'Europe/Paris' } },
];

function adapterFor(provider: ProviderName) {
	const descriptor = providerOf(provider);
	return descriptor.createAdapter({
		apiKey: KEYS[descriptor.wire],
		baseUrl: ctx.emulator.urls[descriptor.wire],
		timeoutMs: 10_000,
	});
}

function requestFor(provider: ProviderName, tools = false): CompletionRequest {
	return {
		model: MODELS[providerOf(provider).wire],
		messages: [{ role: 'user', content: 'Tell me about the fox.' }],
		maxOutputTokens: 256,
		...(tools ? { tools: TOOLS } : {}),
	};
}

interface Outcome {
	events: StreamEvent[];
	error?: unknown;
}

/** Every event of one streamed call, and what it threw if it did; `onEvent` may abort. */
async function streamOf(
	provider: ProviderName,
	scenario: Scenario,
	options: { tools?: boolean; signal?: AbortSignal; onEvent?: (e: StreamEvent) => void } = {},
): Promise<Outcome> {
	ctx.emulator.loadScenario(scenario);
	const adapter = adapterFor(provider);
	assert.ok(adapter.stream, `${provider} streams`);
	const events: StreamEvent[] = [];
	const signal = options.signal ?? AbortSignal.timeout(10_000);
	try {
		for await (const event of adapter.stream(requestFor(provider, options.tools), {
			signal,
			timeoutMs: 10_000,
		})) {
			events.push(event);
			options.onEvent?.(event);
		}
	} catch (error) {
		return { events, error };
	}
	return { events };
}

async function completeOf(
	provider: ProviderName,
	scenario: Scenario,
	tools = false,
): Promise<CompletionResponse> {
	ctx.emulator.loadScenario(scenario);
	return adapterFor(provider).complete(requestFor(provider, tools), {
		signal: AbortSignal.timeout(10_000),
		timeoutMs: 10_000,
	});
}

function texts(events: StreamEvent[]): string[] {
	return events.flatMap((e) => (e.type === 'text' ? [e.text] : []));
}

function doneOf(events: StreamEvent[]): CompletionResponse {
	const last = events.at(-1);
	assert.equal(last?.type, 'done', 'done is the last event');
	assert.equal(events.filter((e) => e.type === 'done').length, 1, 'one done event');
	return (last as Extract<StreamEvent, { type: 'done' }>).response;
}

/** The answer without its request id, which differs from call to call. */
function withoutRequestId(response: CompletionResponse): Omit<CompletionResponse, 'requestId'> {
	const rest: Partial<CompletionResponse> = { ...response };
	delete rest.requestId;
	return rest as Omit<CompletionResponse, 'requestId'>;
}

/** Request ids the SDK hands back, from the provider's header. */
const HAS_REQUEST_ID = new Set<ProviderName>(['anthropic', 'openai', 'openai_compatible']);

for (const provider of PROVIDER_NAMES) {
	describe(`${provider}: the adapter streams through its SDK`, () => {
		it('text arrives in several pieces, in order, and done carries what complete() gives', async () => {
			const { events, error } = await streamOf(provider, { reply: REPLY, stream: PACED });
			assert.equal(error, undefined);
			const pieces = texts(events);
			assert.ok(pieces.length >= 3, `several text events, got ${pieces.length}`);
			assert.equal(pieces.join(''), REPLY);
			const done = doneOf(events);
			assert.equal(done.text, REPLY);
			assert.ok(done.usage.outputTokens > 0, 'usage arrives with the end of the stream');
			if (HAS_REQUEST_ID.has(provider)) assert.match(done.requestId ?? '', /^req_emu\w+$/);
			const whole = await completeOf(provider, { reply: REPLY });
			assert.deepEqual(withoutRequestId(done), withoutRequestId(whole));
		});

		it('tool calls are passed on whole, once each, before done', async () => {
			const scenario: Scenario = { turns: [{ toolCalls: CALLS }], stream: { chunkTokens: 1 } };
			const { events, error } = await streamOf(provider, scenario, { tools: true });
			assert.equal(error, undefined);
			const calls = events.flatMap((e) => (e.type === 'tool_call' ? [e.call] : []));
			assert.deepEqual(
				calls.map((c) => ({ name: c.name, arguments: c.arguments })),
				CALLS,
			);
			assert.equal(new Set(calls.map((c) => c.id)).size, 2, 'each call has its own id');
			const done = doneOf(events);
			assert.deepEqual(done.toolCalls, calls);
			const whole = await completeOf(provider, { turns: [{ toolCalls: CALLS }] }, true);
			assert.deepEqual(
				whole.toolCalls?.map((c) => ({ name: c.name, arguments: c.arguments })),
				CALLS,
			);
			assert.equal(done.finish, whole.finish);
		});

		it('an error before the first chunk is thrown as complete() throws it', async () => {
			const scenario: Scenario = { rules: [{ fault: 'overloaded' }], stream: PACED };
			const { events, error } = await streamOf(provider, scenario);
			assert.deepEqual(events, []);
			assert.ok(error, 'the stream threw');
			let wholeError: unknown;
			await completeOf(provider, scenario).catch((e: unknown) => (wholeError = e));
			const streamed = classifyError(provider, error);
			assert.equal(streamed.errorClass, 'overloaded');
			assert.equal(streamed.errorClass, classifyError(provider, wholeError).errorClass);
			assert.equal(streamed.httpStatus, classifyError(provider, wholeError).httpStatus);
		});

		it('an overloaded error inside the 200 stream, after text, reads as overloaded', async () => {
			const { events, error } = await streamOf(provider, {
				reply: REPLY,
				stream: PACED,
				rules: [{ fault: 'stream_overloaded', afterChunks: 2 }],
			});
			assert.ok(texts(events).length >= 1, 'text came before the error');
			assert.ok(!events.some((e) => e.type === 'done'), 'no done after a broken stream');
			assert.ok(error, 'the stream threw');
			const classified = classifyError(provider, error);
			assert.equal(classified.errorClass, 'overloaded');
			// The provider's own words, not the SDK's wrapping of them.
			assert.doesNotMatch(classified.message, /got status|request not sent|\{/);
		});

		it("an error event mid-stream reads as the server's failure", async () => {
			const { events, error } = await streamOf(provider, {
				reply: REPLY,
				stream: PACED,
				rules: [{ fault: 'stream_error', afterChunks: 2 }],
			});
			assert.ok(texts(events).length >= 1, 'text came before the error');
			assert.ok(!events.some((e) => e.type === 'done'));
			assert.equal(classifyError(provider, error).errorClass, 'server_error');
		});

		it('a connection cut mid-stream is thrown, never taken for the end of the answer', async () => {
			const { events, error } = await streamOf(provider, {
				reply: REPLY,
				stream: PACED,
				rules: [{ fault: 'stream_cut', afterChunks: 2 }],
			});
			assert.ok(texts(events).length >= 1, 'text came before the cut');
			assert.ok(!events.some((e) => e.type === 'done'));
			assert.ok(error, 'the stream threw');
			assert.ok(
				['connection', 'server_error'].includes(classifyError(provider, error).errorClass),
				'a cut reads as a broken connection or answer',
			);
		});

		it('abort stops a stream that has stalled', async () => {
			const controller = new AbortController();
			const { events, error } = await streamOf(
				provider,
				{ reply: REPLY, stream: PACED, rules: [{ fault: 'stream_stall', afterChunks: 2 }] },
				{
					signal: controller.signal,
					onEvent: (event) => {
						if (event.type === 'text') controller.abort();
					},
				},
			);
			assert.equal(texts(events).length, 1, 'nothing after the abort');
			assert.ok(!events.some((e) => e.type === 'done'));
			assert.ok(error, 'the aborted stream threw');
			assert.equal(classifyError(provider, error).errorClass, 'timeout');
		});
	});
}
