/**
 * Resilient LLM streaming to its caller, in process: the node's item run with n8n's
 * isStreaming()/sendChunk faked, the real engine over fake streaming tiers on a virtual
 * clock, so what the tier sends and what the caller gets share one log and their order is
 * exact. Each item streams 'begin', its text as it arrives, 'end'; it still ends on one output.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import type { INodeExecutionData } from 'n8n-workflow';

import type { ChainConfig } from '../../lib/engine/types';
import { StoreGuard } from '../../lib/state/storeGuard';
import { ResilientLlm } from '../../nodes/ResilientLlm/ResilientLlm.node.ts';
import { ItemOutputs } from '../../nodes/ResilientLlm/itemOutputs';
import type { ItemsRun } from '../../nodes/ResilientLlm/itemsRun';
import { runItems } from '../../nodes/ResilientLlm/runItems';
import { KEYS, MODELS, useEmulator } from '../support/emulator';
import { fakeExecute } from '../support/fakeExecute';
import type { SentChunk } from '../support/fakeExecute';
import { httpError } from '../support/fakeStreams';
import { streamingChain } from '../support/streamingChain';
import type { TierSpec } from '../support/streamingChain';

/** Runs the items' prompts through a chain of fake tiers, with a caller that streams or not. */
async function runStreamed(
	specs: TierSpec[],
	prompts: string[],
	{
		streaming = true,
		chain: chainOptions = {},
	}: { streaming?: boolean; chain?: Partial<ChainConfig> } = {},
) {
	const { clock, log, fakes, chain } = streamingChain(specs, chainOptions);
	const items = prompts.map((text) => ({ text }));
	const fake = fakeExecute({
		items,
		parameters: {},
		streaming,
		onChunk: (c) =>
			log.push(`caller got ${c.type} ${c.itemIndex}${c.content ? ` ${c.content}` : ''}`),
	});
	const run: ItemsRun = {
		options: {},
		idempotency: 'off',
		concurrency: 4,
		policy: undefined,
		workflowId: 'wf-1',
		executionId: 'exec-1',
		guard: new StoreGuard(),
		chainFor: () => chain,
		connected: { count: 0, byInput: () => undefined, adapterFor: () => undefined },
	};
	const inputs: INodeExecutionData[] = items.map((json) => ({ json }));
	const outputs = new ItemOutputs(inputs);
	const prepared = prompts.map((prompt, index) => ({
		index,
		task: { prompt },
		chain,
		config: { tiers: [] },
	}));
	await clock.run(runItems(fake.context, run, prepared, outputs), () => true);
	const [answered, needsHuman] = outputs.lists();
	return { log, fakes, chunks: fake.chunks, answered, needsHuman };
}

const textOf = (chunks: SentChunk[], itemIndex: number) =>
	chunks
		.filter((c) => c.type === 'item' && c.itemIndex === itemIndex)
		.map((c) => c.content)
		.join('');

const resilience = (item: INodeExecutionData) => item.json.resilience as Record<string, unknown>;

describe('Resilient LLM streams to a streaming caller', () => {
	it('sends begin, each piece of text as the tier sends it, then end; the item leaves on Answered once', async () => {
		const { log, answered, needsHuman } = await runStreamed(
			[{ name: 'primary', plays: [{ chunks: ['Refund ', 'approved.'], firstMs: 600, gapMs: 50 }] }],
			['Summarise the ticket.'],
		);
		assert.deepEqual(log, [
			'caller got begin 0',
			'primary sent Refund ',
			'caller got item 0 Refund ',
			'primary sent approved.',
			'caller got item 0 approved.',
			'caller got end 0',
		]);
		assert.equal(answered.length, 1);
		assert.equal(needsHuman.length, 0);
		assert.equal(answered[0].json.text, 'Refund approved.');
		assert.equal(resilience(answered[0]).firstTokenMs, 600);
		assert.equal(resilience(answered[0]).continuedFrom, undefined);
	});

	it("items in flight together stream side by side, each chunk naming its item, each item's text whole and in order", async () => {
		const { chunks, answered } = await runStreamed(
			[
				{
					name: 'primary',
					plays: [
						{ chunks: ['a1 ', 'a2 ', 'a3'], firstMs: 100, gapMs: 100 },
						{ chunks: ['b1 ', 'b2 ', 'b3'], firstMs: 150, gapMs: 100 },
					],
				},
			],
			['first', 'second'],
		);
		assert.deepEqual(
			chunks.map((c) => `${c.type} ${c.itemIndex}${c.content ? ` ${c.content}` : ''}`),
			[
				'begin 0',
				'begin 1',
				'item 0 a1 ',
				'item 1 b1 ',
				'item 0 a2 ',
				'item 1 b2 ',
				'item 0 a3',
				'end 0',
				'item 1 b3',
				'end 1',
			],
		);
		assert.deepEqual(
			answered.map((item) => item.json.text),
			['a1 a2 a3', 'b1 b2 b3'],
		);
	});

	it('a primary that answers 529 fails over before the first text: the caller gets tier 2 alone', async () => {
		const { chunks, answered, fakes } = await runStreamed(
			[
				{ name: 'primary', attempts: 2, plays: [{ fail: httpError(529, 'Overloaded') }] },
				{ name: 'secondary', plays: [{ chunks: ['From ', 'tier 2.'], firstMs: 400 }] },
			],
			['Summarise.'],
		);
		assert.equal(fakes[0].calls, 2);
		assert.deepEqual(
			chunks.map((c) => c.type),
			['begin', 'item', 'item', 'end'],
		);
		assert.equal(textOf(chunks, 0), 'From tier 2.');
		assert.equal(resilience(answered[0]).tier, 2);
		assert.ok(Number(resilience(answered[0]).firstTokenMs) >= 400);
	});

	it('a stream cut mid-answer is continued by tier 2: the caller gets the whole text once, the item says continuedFrom', async () => {
		const { chunks, answered } = await runStreamed(
			[
				{
					name: 'primary',
					plays: [{ chunks: ['The order ', 'shipped '], end: { error: httpError(500) } }],
				},
				{ name: 'secondary', provider: 'openai', plays: [{ chunks: ['on Monday.'] }] },
			],
			['When did it ship?'],
		);
		assert.equal(textOf(chunks, 0), 'The order shipped on Monday.');
		assert.equal(chunks.filter((c) => c.type === 'item').length, 3);
		assert.equal(answered[0].json.text, 'The order shipped on Monday.');
		assert.deepEqual(resilience(answered[0]).continuedFrom, {
			tier: 1,
			chars: 'The order shipped '.length,
		});
	});

	it('a JSON answer is not streamed: it goes once, whole, after it was checked; a broken one never', async () => {
		const { chunks, answered, fakes } = await runStreamed(
			[
				{ name: 'primary', plays: [{ chunks: ['{"status": ', 'oops'] }] },
				{ name: 'secondary', plays: [{ chunks: ['{"status": ', '"shipped"}'] }] },
			],
			['Status as JSON.'],
			{ chain: { output: { json: true } } },
		);
		assert.equal(fakes[0].calls, 1);
		assert.deepEqual(chunks, [
			{ type: 'begin', itemIndex: 0 },
			{ type: 'item', itemIndex: 0, content: '{"status": "shipped"}' },
			{ type: 'end', itemIndex: 0 },
		]);
		assert.deepEqual(answered[0].json.output, { status: 'shipped' });
	});

	it('an item no tier answers ends its stream after the text sent, and leaves on Needs Human alone', async () => {
		const { chunks, answered, needsHuman } = await runStreamed(
			[
				{ name: 'primary', plays: [{ chunks: ['Partial '], end: { error: httpError(500) } }] },
				{ name: 'secondary', plays: [{ fail: httpError(503) }] },
			],
			['Summarise.'],
		);
		assert.deepEqual(chunks, [
			{ type: 'begin', itemIndex: 0 },
			{ type: 'item', itemIndex: 0, content: 'Partial ' },
			{ type: 'end', itemIndex: 0 },
		]);
		assert.equal(answered.length, 0);
		assert.equal(needsHuman.length, 1);
		assert.match(String(needsHuman[0].json.reason), /Every model in the chain failed/);
	});

	it('an execution that does not stream sends no chunks, and its calls are not streamed', async () => {
		const { chunks, answered } = await runStreamed(
			[{ name: 'primary', plays: [{ chunks: ['Whole ', 'answer.'] }] }],
			['Summarise.'],
			{ streaming: false },
		);
		assert.deepEqual(chunks, []);
		assert.equal(answered[0].json.text, 'Whole answer.');
		const attempts = resilience(answered[0]).attempts as Array<{ streamed?: boolean }>;
		assert.equal(attempts[0].streamed, undefined);
		assert.equal(resilience(answered[0]).firstTokenMs, undefined);
	});
});

describe("Resilient LLM streams through the real SDKs from the emulator's paced streams", () => {
	const ctx = useEmulator();
	const REPLY =
		'The parcel left the warehouse on Monday and should reach you by Thursday at the latest.';
	const CHAIN = {
		tiers: [
			{ provider: 'anthropic', model: MODELS.anthropic, attempts: 1, timeoutSeconds: 10 },
			{ provider: 'openai', model: MODELS.openai, attempts: 1, timeoutSeconds: 10 },
		],
	};

	/** One streaming execution; each chunk noted with how many answers the emulator had finished. */
	async function execute(storagePath?: string, options: object = {}) {
		const seen: Array<SentChunk & { answersFinished: number }> = [];
		const run = fakeExecute({
			items: [{ text: 'Where is my parcel?' }],
			parameters: {
				prompt: 'Where is my parcel?',
				chain: CHAIN,
				options: { initialBackoffMs: 5, circuitBreaker: false, recordMetrics: false, ...options },
			},
			credentials: {
				resilientLlmAnthropicApi: { apiKey: KEYS.anthropic, baseUrl: ctx.emulator.urls.anthropic },
				resilientLlmOpenAiApi: { apiKey: KEYS.openai, baseUrl: ctx.emulator.urls.openai },
			},
			streaming: true,
			storagePath,
			executionId: `exec-${Math.random()}`,
			onChunk: (chunk) => seen.push({ ...chunk, answersFinished: ctx.emulator.answers() }),
		});
		const [answered, needsHuman] = await new ResilientLlm().execute.call(run.context);
		return { seen, answered, needsHuman };
	}

	function load(rules: unknown[]): void {
		ctx.emulator.loadScenario({
			apiKeys: KEYS,
			reply: REPLY,
			stream: { firstTokenMs: 300, tokensPerSecond: 40 },
			rules,
		});
		ctx.emulator.resetCounts();
	}

	it('the first words reach the caller while the provider is still sending; the whole answer arrives once', async () => {
		load([]);
		const { seen, answered, needsHuman } = await execute();
		const texts = seen.filter((c) => c.type === 'item');
		assert.equal(seen[0].type, 'begin');
		assert.equal(seen.at(-1)?.type, 'end');
		assert.ok(texts.length > 3, `streamed in pieces: ${texts.length}`);
		assert.equal(texts[0].answersFinished, 0, 'the first text came before the answer was complete');
		assert.equal(ctx.emulator.answers(), 1);
		assert.equal(texts.map((c) => c.content).join(''), REPLY);
		assert.equal(answered.length, 1);
		assert.equal(needsHuman.length, 0);
		assert.equal(answered[0].json.text, REPLY);
		assert.equal(ctx.emulator.received('anthropic')[0].stream, true);
		assert.ok(Number(resilience(answered[0]).firstTokenMs) > 0);
	});

	it('a stream cut halfway is continued by the next tier: the caller gets the answer once, nothing repeated', async () => {
		load([{ provider: 'anthropic', fault: 'stream_cut', afterShare: 0.5 }]);
		const { seen, answered } = await execute();
		const texts = seen.filter((c) => c.type === 'item').map((c) => c.content);
		assert.equal(texts.join(''), REPLY);
		assert.equal(answered[0].json.text, REPLY);
		const continued = resilience(answered[0]).continuedFrom as { tier: number; chars: number };
		assert.equal(continued.tier, 1);
		assert.ok(continued.chars > 0 && continued.chars < REPLY.length, JSON.stringify(continued));
		assert.equal(resilience(answered[0]).tier, 2);
	});

	it('an answer served from the idempotency store goes to the caller whole, in one chunk', async () => {
		load([]);
		const storagePath = mkdtempSync(join(tmpdir(), 'stream-storage-'));
		const options = { idempotency: 'derived' };
		await execute(storagePath, options);
		const calls = ctx.emulator.count('anthropic');
		const again = await execute(storagePath, options);
		assert.equal(ctx.emulator.count('anthropic'), calls, 'no provider was asked again');
		assert.deepEqual(
			again.seen.map(({ type, content }) => [type, content]),
			[
				['begin', undefined],
				['item', REPLY],
				['end', undefined],
			],
		);
		assert.equal(resilience(again.answered[0]).cached, true);
	});
});
