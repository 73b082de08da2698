/**
 * Streamed answers in a real n8n 2.41.1, read by a client as they arrive: an AI Agent with a
 * tool and Enable Streaming on, behind a Webhook in Response Mode "Streaming", through
 * Resilient Chat Model; and Resilient LLM behind the same kind of webhook. The emulator
 * answers at a model's pace (first token after 0.5-0.9 s, then word by word) with the
 * primary up, down (529), silent after accepting the call, and cut mid-answer. Each chunk the
 * client reads is noted with how many answers the emulator had finished sending by then:
 * the first words must arrive while the answer is still being sent, the whole text once.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import type { Turn } from '../../lib/emulator/scenario';
import type { Execution, ExecutionItem } from '../harness/n8n';
import {
	agentWorkflow,
	chatModelParameters,
	orderTools,
	TOOL_NAMES,
} from '../support/agentWorkflows';
import { KEYS, MODELS } from '../support/emulator';
import { useN8n } from '../support/n8nFixture';
import { OrderService } from '../support/orderService';
import { streamWebhook } from '../support/streamingClient';
import type { ReceivedChunk } from '../support/streamingClient';
import { llmNode, splitItemsNode, webhookNode, workflow } from '../support/workflows';

const ctx = useN8n();
const orders = new OrderService();
before(async () => await orders.start());
after(async () => await orders.stop());
beforeEach(() => orders.reset());

const FINAL_ANSWER =
	'Order 42 was delivered on Tuesday, two days later than promised; I am sorry for the wait, and the courier has been told about it.';

/** The model looks the order up, then answers. */
const TURNS: Turn[] = [
	{ toolCalls: [{ name: TOOL_NAMES.lookup, arguments: { orderId: '42' } }] },
	{ reply: FINAL_ANSWER },
];

/** A model's pace: the first token after 0.5-0.9 s, then about ten words a second. */
const PACE = { firstTokenMs: [500, 900], tokensPerSecond: 10 };

function load(rules: unknown[], extra: Record<string, unknown> = {}): void {
	ctx.emulator.loadScenario({ apiKeys: KEYS, turns: TURNS, stream: PACE, rules, ...extra });
	ctx.emulator.resetCounts();
}

const tier = (provider: 'anthropic' | 'openai', extra: Record<string, unknown> = {}) => ({
	provider,
	model: MODELS[provider],
	attempts: 2,
	timeoutSeconds: 20,
	...extra,
});

const TWO_TIERS = [tier('anthropic'), tier('openai')];

let workflows = 0;

/**
 * Creates the workflow, calls its streaming webhook and reads the chunks as they arrive, each
 * noted with what `observe` said then (by default: the answers the emulator had sent in full).
 */
async function callStreaming<T = number>(
	definition: (path: string) => Record<string, unknown>,
	body: unknown,
	observe: () => T = () => ctx.emulator.answers() as T,
) {
	const path = `stream-${++workflows}`;
	const id = await ctx.n8n.createWorkflow(definition(path));
	const { status, chunks } = await streamWebhook(
		`${ctx.n8n.baseUrl}/webhook/${path}`,
		body,
		observe,
	);
	const execution = await ctx.n8n.latestExecution(id);
	assert.equal(status, 200, JSON.stringify({ chunks, error: execution.data?.resultData.error }));
	return { chunks, execution };
}

async function runAgent(tiers: Array<Record<string, unknown>>) {
	return await callStreaming(
		(path) =>
			agentWorkflow({
				name: `Streaming agent ${workflows}`,
				path,
				chatModel: chatModelParameters(tiers),
				credentials: ctx.credentials,
				tools: [orderTools(orders.baseUrl)[0]],
				streaming: true,
			}),
		{ message: 'Where is order 42? It is late.' },
	);
}

interface CallSummary {
	tier?: number;
	attempts: Array<{ tier: number; status: string; errorClass?: string; httpStatus?: number }>;
	firstTokenMs?: number;
	continuedFrom?: { tier: number; chars: number };
}

/** Each model call's summary as the chat model's output panel shows it. */
function summaries(execution: Execution): CallSummary[] {
	const runs = execution.data?.resultData.runData['Resilient Chat Model'] ?? [];
	return runs.map((run) => {
		const data = (run.data as unknown as Record<string, ExecutionItem[][]>)?.ai_languageModel;
		const summary = data?.[0]?.[0]?.json.resilience as CallSummary | undefined;
		assert.ok(summary, `no resilience summary on ${JSON.stringify(run)}`);
		return summary;
	});
}

const textChunks = <T>(chunks: Array<ReceivedChunk<T>>, node: string, itemIndex = 0) =>
	chunks.filter(
		(c) => c.type === 'item' && c.metadata?.nodeName === node && c.metadata.itemIndex === itemIndex,
	);

/**
 * What every streamed agent run must show: the answer's first words came while the emulator
 * was still sending that answer (one of its two answers finished: the tool call's), in many
 * pieces, the whole text exactly once, and the tool ran once.
 */
function assertStreamedAnswer(chunks: ReceivedChunk[]): void {
	const texts = textChunks(chunks, 'AI Agent');
	assert.ok(texts.length > 5, `the answer came in pieces: ${JSON.stringify(chunks)}`);
	assert.equal(ctx.emulator.answers(), 2, 'two answers sent in full: the tool call, the reply');
	assert.equal(texts[0].observed, 1, 'the first words arrived before the reply was complete');
	assert.equal(texts.map((c) => c.content).join(''), FINAL_ANSWER);
	assert.equal(orders.count('/orders/42'), 1, 'the tool ran once');
	assert.deepEqual(
		chunks.filter((c) => c.type === 'error'),
		[],
	);
}

describe('AI Agent streaming through Resilient Chat Model to a streaming webhook', () => {
	it('primary up: the words arrive as the model sends them', async () => {
		load([]);
		const { chunks, execution } = await runAgent(TWO_TIERS);
		assertStreamedAnswer(chunks);
		const calls = summaries(execution);
		assert.deepEqual(
			calls.map((c) => c.tier),
			[1, 1],
		);
		assert.ok((calls[1].firstTokenMs ?? 0) > 0, JSON.stringify(calls[1]));
		assert.equal(ctx.emulator.count('openai'), 0);
	});

	it('primary 529: failed over before the first token, the reader sees tier 2 alone', async () => {
		load([{ provider: 'anthropic', fault: 'overloaded' }]);
		const { chunks, execution } = await runAgent(TWO_TIERS);
		assertStreamedAnswer(chunks);
		for (const call of summaries(execution)) {
			assert.deepEqual(
				call.attempts.map((a) => [a.tier, a.status, a.httpStatus ?? null]),
				[
					[1, 'failed', 529],
					[1, 'failed', 529],
					[2, 'ok', 200],
				],
			);
			assert.equal(call.continuedFrom, undefined);
		}
	});

	it('primary accepts and sends nothing: abandoned at its First Token Timeout, tier 2 answers', async () => {
		load([{ provider: 'anthropic', fault: 'stream_stall', afterChunks: 0 }]);
		const { chunks, execution } = await runAgent([
			tier('anthropic', { attempts: 1, tierOptions: { firstTokenTimeoutSeconds: 2 } }),
			tier('openai'),
		]);
		assertStreamedAnswer(chunks);
		for (const call of summaries(execution)) {
			assert.deepEqual(
				call.attempts.map((a) => [a.tier, a.status, a.errorClass ?? null]),
				[
					[1, 'failed', 'timeout'],
					[2, 'ok', null],
				],
			);
		}
		assert.equal(ctx.emulator.count('anthropic'), 2, 'one silent call per model turn');
	});

	it('primary cut mid-answer: tier 2 continues it, the reader gets the whole answer once', async () => {
		load([{ provider: 'anthropic', minToolResults: 1, fault: 'stream_cut', afterShare: 0.5 }]);
		const { chunks, execution } = await runAgent(TWO_TIERS);
		assertStreamedAnswer(chunks);
		const [lookup, reply] = summaries(execution);
		assert.equal(lookup.tier, 1);
		assert.equal(reply.tier, 2);
		assert.equal(reply.continuedFrom?.tier, 1);
		const kept = reply.continuedFrom?.chars ?? 0;
		assert.ok(kept > 0 && kept < FINAL_ANSWER.length, JSON.stringify(reply));
		// The words before the cut came from the primary, the rest from tier 2, nothing twice.
		const texts = textChunks(chunks, 'AI Agent').map((c) => c.content ?? '');
		let sent = 0;
		const fromPrimary = texts.filter((t) => (sent += t.length) <= kept);
		assert.equal(fromPrimary.join(''), FINAL_ANSWER.slice(0, kept));
		const continuation = ctx.emulator.received('openai').at(-1);
		assert.equal(continuation?.stream, true);
		assert.match(JSON.stringify(continuation?.body), /cut off/);
	});
});

describe('Resilient LLM streaming to a streaming webhook', () => {
	it('each item streams begin, its words as they arrive, end; both items end on Answered once', async () => {
		const reply =
			'About "{prompt}": the parcel left the warehouse on Monday and reaches you by Thursday.';
		ctx.emulator.loadScenario({ apiKeys: KEYS, reply, stream: PACE });
		ctx.emulator.resetCounts();
		const prompts = ['Where is parcel A?', 'Where is parcel B?'];
		const parameters = {
			prompt: '={{ $json.text }}',
			chain: { tiers: TWO_TIERS },
			options: { initialBackoffMs: 20, deadlineSeconds: 30, circuitBreaker: false },
		};
		const { chunks, execution } = await callStreaming(
			(path) =>
				workflow(`Streaming LLM ${workflows}`, [
					webhookNode(path, 'streaming'),
					splitItemsNode(),
					llmNode(parameters, ctx.credentials),
				]),
			{ items: prompts.map((text) => ({ text })) },
			// Per prompt: whether the emulator had sent its whole answer yet.
			() => Object.fromEntries([...ctx.emulator.promptCounts()].map(([p, c]) => [p, c.answered])),
		);
		const runs = execution.data?.resultData.runData['Resilient LLM'] ?? [];
		const [answered, needsHuman] = runs[0]?.data?.main ?? [];
		assert.equal(answered?.length, 2);
		assert.equal(needsHuman?.length ?? 0, 0);
		const mine = chunks.filter((c) => c.metadata?.nodeName === 'Resilient LLM');
		for (const [index, prompt] of prompts.entries()) {
			// The emulator's answer names the prompt it got (with the provider's framing around it).
			const answer: string = String(answered?.[index]?.json.text);
			assert.ok(answer.includes(prompt) && answer.endsWith('by Thursday.'), answer);
			const own = mine.filter((c) => c.metadata?.itemIndex === index);
			assert.equal(own[0]?.type, 'begin');
			assert.equal(own.at(-1)?.type, 'end');
			const texts = textChunks(chunks, 'Resilient LLM', index);
			assert.ok(texts.length > 5, JSON.stringify(own));
			assert.equal(texts.map((c) => c.content).join(''), answer);
			const finished = Object.entries(texts[0].observed).find(([p]) => p.includes(prompt));
			assert.equal(
				finished?.[1],
				0,
				`item ${index}: the first words arrived before its answer was complete`,
			);
		}
		assert.equal(ctx.emulator.answers(), 2, 'one answer per item, each sent once');
	});
});
