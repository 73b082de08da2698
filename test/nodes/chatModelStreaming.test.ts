/**
 * Resilient Chat Model's stream(), in process: the real engine over fake streaming tiers on a
 * virtual clock, so every step lands in one log and the order of events is exact. Text comes
 * out as the tier sends it, failovers before it are unseen, a broken stream is continued, tool
 * calls come whole at the end; then the same through the pinned n8n's own SDK and LangChain.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import type { ISupplyDataFunctions } from 'n8n-workflow';

import type { FunctionTool, Message, StreamChunk } from '@n8n/ai-node-sdk';

import type { TaskResult } from '../../lib/engine/types';
import { ChainChatModel } from '../../nodes/ResilientChatModel/chainChatModel';
import { ResilientChatModel } from '../../nodes/ResilientChatModel/ResilientChatModel.node.ts';
import { closeStateStores } from '../../nodes/shared/stateStores';
import { callSummary } from '../../nodes/shared/resultViews';
import { ensureRuntime } from '../harness/runtime';
import { KEYS, MODELS, useEmulator } from '../support/emulator';
import { fakeExecute } from '../support/fakeExecute';
import { httpError } from '../support/fakeStreams';
import { streamingChain } from '../support/streamingChain';
import type { TierSpec } from '../support/streamingChain';

const USER: Message[] = [{ role: 'user', content: [{ type: 'text', text: 'Where is order 42?' }] }];
const LOOKUP: FunctionTool = {
	type: 'function',
	name: 'order_lookup',
	inputSchema: { type: 'object', properties: { orderId: { type: 'string' } } },
};

/** The chat model over a chain of fake streaming tiers; what it yields goes into the fakes' log. */
function streamingModel(specs: TierSpec[]) {
	const { clock, log, fakes, chain } = streamingChain(specs);
	const results: TaskResult[] = [];
	const runs: Array<Promise<TaskResult>> = [];
	const model = new ChainChatModel({
		modelId: specs.map((s) => s.name).join(' → '),
		run: (task, signal, onText) => {
			const running = chain.run(task, { signal, onText });
			runs.push(running);
			return running;
		},
		toJsonSchema: (tool) => tool.inputSchema as Record<string, unknown>,
		onResult: (result) => {
			results.push(result);
			log.push('call recorded');
		},
		invalid: (message) => new Error(message),
		failure: (result) => new Error(result.reasonText),
	});
	/** Reads the whole stream on the virtual clock, logging each chunk as it comes. */
	const read = async (reader = model as ChainChatModel, stopAfter = Infinity) => {
		const chunks: StreamChunk[] = [];
		const reading = (async () => {
			for await (const chunk of reader.stream(USER)) {
				chunks.push(chunk);
				log.push(`model yielded ${chunk.type === 'text-delta' ? chunk.delta : chunk.type}`);
				if (chunks.length >= stopAfter) break;
			}
		})();
		await clock.run(reading, () => true);
		return chunks;
	};
	return { model, log, fakes, results, runs, read, clock };
}

const textOf = (chunks: StreamChunk[]) =>
	chunks.map((c) => (c.type === 'text-delta' ? c.delta : '')).join('');

describe('Resilient Chat Model streams', () => {
	it('yields each piece of text as the tier sends it, then the tool calls whole, then the finish with usage and tier', async () => {
		const { model, log, read, results } = streamingModel([
			{
				name: 'primary',
				plays: [
					{
						chunks: ['Let me ', 'look ', 'that up.'],
						firstMs: 700,
						gapMs: 40,
						toolCalls: [{ id: 'toolu_1', name: 'order_lookup', arguments: { orderId: '42' } }],
					},
				],
			},
		]);
		const chunks = await read(model.withTools([LOOKUP]));
		assert.deepEqual(log, [
			'primary sent Let me ',
			'model yielded Let me ',
			'primary sent look ',
			'model yielded look ',
			'primary sent that up.',
			'model yielded that up.',
			'call recorded',
			'model yielded tool-call-delta',
			'model yielded finish',
		]);
		assert.deepEqual(chunks.slice(3), [
			{
				type: 'tool-call-delta',
				id: 'toolu_1',
				name: 'order_lookup',
				argumentsDelta: '{"orderId":"42"}',
			},
			{
				type: 'finish',
				finishReason: 'tool-calls',
				usage: { promptTokens: 10, completionTokens: 20, totalTokens: 30 },
				providerMetadata: { tier: 1, provider: 'anthropic', model: 'primary' },
			},
		]);
		const [result] = results;
		assert.equal(result.firstTokenMs, 700);
		assert.equal(callSummary(result).firstTokenMs, 700);
		assert.equal(callSummary(result).continuedFrom, undefined);
	});

	it('a primary that answers 529 fails over before the first text: the reader sees tier 2 alone', async () => {
		const { log, read, results, fakes } = streamingModel([
			{ name: 'primary', attempts: 2, plays: [{ fail: httpError(529, 'Overloaded') }] },
			{ name: 'secondary', plays: [{ chunks: ['Shipped ', 'today.'], firstMs: 500, gapMs: 30 }] },
		]);
		const chunks = await read();
		assert.equal(fakes[0].calls, 2);
		assert.deepEqual(log.slice(0, 6), [
			'primary failed',
			'primary failed',
			'secondary sent Shipped ',
			'model yielded Shipped ',
			'secondary sent today.',
			'model yielded today.',
		]);
		assert.equal(textOf(chunks), 'Shipped today.');
		const finish = chunks.at(-1);
		assert.equal(finish?.type, 'finish');
		assert.deepEqual(finish?.providerMetadata, {
			tier: 2,
			provider: 'anthropic',
			model: 'secondary',
		});
		const summary = callSummary(results[0]);
		assert.equal(summary.tier, 2);
		assert.ok(Number(summary.firstTokenMs) >= 500, 'the failover counts in the first text');
		assert.deepEqual(
			(summary.attempts as Array<{ status: string; firstTokenMs?: number }>).map((a) => [
				a.status,
				a.firstTokenMs,
			]),
			[
				['failed', undefined],
				['failed', undefined],
				['ok', 500],
			],
		);
	});

	it('a stream cut mid-answer is continued by tier 2: the whole text once, continuedFrom in the call summary', async () => {
		const { read, results, fakes } = streamingModel([
			{
				name: 'primary',
				plays: [{ chunks: ['Order 42 ', 'left the '], end: { error: httpError(500) } }],
			},
			{ name: 'secondary', provider: 'openai', plays: [{ chunks: ['warehouse ', 'today.'] }] },
		]);
		const chunks = await read();
		assert.deepEqual(
			chunks.filter((c) => c.type === 'text-delta').map((c) => c.delta),
			['Order 42 ', 'left the ', 'warehouse ', 'today.'],
		);
		assert.equal(fakes[1].requests[0].messages.at(-2)?.content, 'Order 42 left the ');
		const summary = callSummary(results[0]);
		assert.deepEqual(summary.continuedFrom, { tier: 1, chars: 'Order 42 left the '.length });
		assert.equal(results[0].text, 'Order 42 left the warehouse today.');
		const sent = summary.attempts as Array<{ sentChars?: number }>;
		assert.deepEqual(
			sent.map((a) => a.sentChars),
			[18, 16],
		);
	});

	it('a call no tier answers ends the stream with the chain error, after the text already sent', async () => {
		const { read, log } = streamingModel([
			{ name: 'primary', plays: [{ chunks: ['Half '], end: { error: httpError(500) } }] },
			{ name: 'secondary', plays: [{ fail: httpError(503) }] },
		]);
		await assert.rejects(read(), /Every model in the chain failed/);
		assert.deepEqual(
			log.filter((line) => line.startsWith('model yielded') || line === 'call recorded'),
			['model yielded Half ', 'call recorded'],
			'the text sent, then the error: no finish',
		);
	});

	it('a reader that stops early stops the call: the tier sends nothing more', async () => {
		const { read, log, runs, clock } = streamingModel([
			{ name: 'primary', plays: [{ chunks: ['One ', 'two ', 'three'], gapMs: 100 }] },
		]);
		await read(undefined, 1);
		const result = await clock.run(runs[0], () => true);
		assert.deepEqual(log, ['primary sent One ', 'model yielded One ']);
		assert.equal(result.outcome, 'needs_human', 'the call was cancelled');
	});
});

describe('Resilient Chat Model streams through the pinned n8n AI node SDK and LangChain', () => {
	const runtime = createRequire(join(ensureRuntime(), 'node_modules', 'noop.js'));
	const sdk = runtime('@n8n/ai-node-sdk') as typeof import('@n8n/ai-node-sdk');
	const lc = runtime('@langchain/core/messages') as {
		HumanMessage: new (text: string) => unknown;
	};
	interface MessageChunk {
		concat(other: MessageChunk): MessageChunk;
		text: string;
		tool_calls?: Array<{ id?: string; name: string; args: unknown }>;
		usage_metadata?: { input_tokens: number; output_tokens: number };
	}
	const ctx = {
		getNode: () => ({ name: 'Resilient Chat Model', type: 'x', typeVersion: 1, parameters: {} }),
		getNextRunIndex: () => 0,
		addInputData: () => ({ index: 0 }),
		addOutputData: () => undefined,
		logger: { debug() {}, info() {}, warn() {}, error() {} },
		getExecutionId: () => '1',
		getWorkflow: () => ({ id: 'w' }),
	};

	it("LangChain's stream gets the first text before the tier sends the next, and the tool call whole", async () => {
		const { model, log, clock } = streamingModel([
			{
				name: 'primary',
				plays: [
					{
						chunks: ['Checking ', 'order 42.'],
						firstMs: 600,
						gapMs: 50,
						toolCalls: [{ id: 'toolu_9', name: 'order_lookup', arguments: { orderId: '42' } }],
					},
				],
			},
		]);
		const supplied = sdk.supplyModel(ctx as never, model.withTools([LOOKUP])) as {
			response: { stream(messages: unknown[]): Promise<AsyncIterable<MessageChunk>> };
		};
		let joined: MessageChunk | undefined;
		const reading = (async () => {
			for await (const chunk of await supplied.response.stream([
				new lc.HumanMessage('Where is order 42?'),
			])) {
				if (chunk.text) log.push(`langchain got ${chunk.text}`);
				joined = joined ? joined.concat(chunk) : chunk;
			}
		})();
		await clock.run(reading, () => true);
		assert.deepEqual(log.slice(0, 4), [
			'primary sent Checking ',
			'langchain got Checking ',
			'primary sent order 42.',
			'langchain got order 42.',
		]);
		assert.equal(joined?.text, 'Checking order 42.');
		assert.deepEqual(
			joined?.tool_calls?.map((c) => ({ id: c.id, name: c.name, args: c.args })),
			[{ id: 'toolu_9', name: 'order_lookup', args: { orderId: '42' } }],
		);
		assert.equal(joined?.usage_metadata?.output_tokens, 'Checking order 42.'.length);
	});
});

describe("Resilient Chat Model node streams the emulator's paced streams through the real SDKs", () => {
	const { emulator } = useEmulator();
	// What n8n does when it loads nodes: its own modules on NODE_PATH, where the SDK is found.
	const runtimeModules = join(ensureRuntime(), 'node_modules');
	process.env.NODE_PATH = [runtimeModules, process.env.NODE_PATH].filter(Boolean).join(':');
	(Module as unknown as { _initPaths(): void })._initPaths();
	const runtime = createRequire(join(runtimeModules, 'noop.js'));
	const lc = runtime('@langchain/core/messages') as { HumanMessage: new (text: string) => unknown };
	const REPLY = 'Your order left the warehouse this morning and arrives on Thursday before noon.';

	after(closeStateStores);

	it('LangChain gets the first words while the answer is still being sent; the panel shows firstTokenMs', async () => {
		emulator.loadScenario({
			apiKeys: KEYS,
			reply: REPLY,
			stream: { firstTokenMs: 300, tokensPerSecond: 40 },
			rules: [{ provider: 'anthropic', fault: 'overloaded' }],
		});
		const tier = (provider: 'anthropic' | 'openai') => ({
			provider,
			model: MODELS[provider],
			attempts: 1,
			timeoutSeconds: 5,
		});
		const { context } = fakeExecute({
			items: [{}],
			storagePath: mkdtempSync(join(tmpdir(), 'chat-model-stream-')),
			parameters: {
				chain: { tiers: [tier('anthropic'), tier('openai')] },
				criticality: 'standard',
				options: { initialBackoffMs: 5, circuitBreaker: false, recordMetrics: false },
			},
			credentials: {
				resilientLlmAnthropicApi: { apiKey: KEYS.anthropic, baseUrl: emulator.urls.anthropic },
				resilientLlmOpenAiApi: { apiKey: KEYS.openai, baseUrl: emulator.urls.openai },
			},
		});
		const outputs: unknown[] = [];
		Object.assign(context, {
			getNextRunIndex: () => 0,
			addInputData: () => ({ index: 0 }),
			addOutputData: (_type: string, _index: number, data: unknown) => outputs.push(data),
			logAiEvent: () => undefined,
		});
		const supplied = (await new ResilientChatModel().supplyData.call(
			context as unknown as ISupplyDataFunctions,
			0,
		)) as {
			response: { stream(messages: unknown[]): Promise<AsyncIterable<{ text: string }>> };
		};
		emulator.resetCounts();
		const pieces: Array<{ text: string; answersFinished: number }> = [];
		for await (const chunk of await supplied.response.stream([new lc.HumanMessage('Where?')])) {
			if (chunk.text) pieces.push({ text: chunk.text, answersFinished: emulator.answers() });
		}
		assert.ok(pieces.length > 3, `in pieces: ${pieces.length}`);
		assert.equal(
			pieces[0].answersFinished,
			0,
			'the first words came before the answer was complete',
		);
		assert.equal(emulator.answers(), 1);
		assert.equal(pieces.map((p) => p.text).join(''), REPLY);
		assert.equal(emulator.received('openai')[0].stream, true);
		const panel = outputs as Array<
			Array<Array<{ json: { resilience?: Record<string, unknown> } }>>
		>;
		const summary = panel[0]?.[0]?.[0]?.json.resilience;
		assert.equal(summary?.tier, 2);
		assert.ok(Number(summary?.firstTokenMs) >= 300, JSON.stringify(summary));
	});
});
