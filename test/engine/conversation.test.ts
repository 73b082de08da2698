/**
 * The engine running an agent's conversation: tool calls answer, tools run once, and a
 * failover in the middle of the run carries the whole conversation, tool results included,
 * to another provider. Real SDKs over HTTP against the emulator, on a virtual clock.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { CircuitBreaker } from '../../lib/engine/breaker/circuitBreaker';
import { ConfigError } from '../../lib/engine/configError';
import { FailoverChain } from '../../lib/engine/failoverChain';
import type {
	ChainConfig,
	ChatMessage,
	Task,
	TaskResult,
	ToolDefinition,
} from '../../lib/engine/types';
import type { Scenario } from '../../lib/emulator/scenario';
import type { WireProvider } from '../../lib/emulator/wire';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import { FAST_BACKOFF, HALF, tier, useEmulator } from '../support/emulator';
import { VirtualClock } from '../support/virtualClock';

const ctx = useEmulator();

const TOOLS: ToolDefinition[] = [
	{
		name: 'lookup_order',
		description: 'Finds an order by its id.',
		parameters: {
			type: 'object',
			properties: { orderId: { type: 'string' } },
			required: ['orderId'],
		},
	},
	{
		name: 'request_refund',
		description: 'Asks for a refund of an order.',
		parameters: {
			type: 'object',
			properties: { orderId: { type: 'string' } },
			required: ['orderId'],
		},
	},
];

const FINAL = 'Your refund for order A-1001 is on its way.';

/** The two-tool task: look the order up, ask for the refund, then say so. */
const TWO_TOOLS: Scenario = {
	turns: [
		{ toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }] },
		{ toolCalls: [{ name: 'request_refund', arguments: { orderId: 'A-1001' } }] },
		{ reply: FINAL },
	],
};

/** What each tool answers, marked so the test can find it in what the next provider received. */
const TOOL_OUTPUT: Record<string, string> = {
	lookup_order: '{"orderId":"A-1001","status":"delivered","marker":"LOOKUP-RESULT-7f3"}',
	request_refund: '{"refundId":"R-55","marker":"REFUND-RESULT-9c1"}',
};

interface AgentRun {
	steps: TaskResult[];
	/** How many times each tool ran. */
	ran: Record<string, number>;
	messages: ChatMessage[];
}

/** What an agent does: call the model, run the tools it asks for, repeat until it answers in text. */
async function runAgent(chain: FailoverChain, clock: VirtualClock): Promise<AgentRun> {
	const messages: ChatMessage[] = [
		{ role: 'system', content: 'You are a support agent. Use the tools.' },
		{ role: 'user', content: 'Order A-1001 arrived broken; please refund it.' },
	];
	const steps: TaskResult[] = [];
	const ran: Record<string, number> = {};
	for (let step = 0; step < 6; step++) {
		const result = await clock.run(chain.run({ messages: [...messages], tools: TOOLS }));
		steps.push(result);
		if (result.outcome !== 'answered' || !result.toolCalls) break;
		messages.push({ role: 'assistant', content: result.text ?? '', toolCalls: result.toolCalls });
		for (const call of result.toolCalls) {
			ran[call.name] = (ran[call.name] ?? 0) + 1;
			messages.push({
				role: 'tool',
				toolCallId: call.id,
				name: call.name,
				content: TOOL_OUTPUT[call.name],
			});
		}
	}
	return { steps, ran, messages };
}

function chainOf(
	config: Omit<ChainConfig, 'backoff'>,
	clock: VirtualClock,
	breaker?: CircuitBreaker,
) {
	return new FailoverChain(
		{ backoff: FAST_BACKOFF, deadlineMs: 60_000, ...config },
		{ random: HALF, clock, breaker },
	);
}

/** Failovers between every wire format and another one. */
const PAIRS: [WireProvider, WireProvider][] = [
	['anthropic', 'openai'],
	['openai', 'gemini'],
	['gemini', 'ollama'],
	['ollama', 'anthropic'],
];

describe('failover in the middle of a conversation', () => {
	for (const [primary, secondary] of PAIRS) {
		it(`${primary} overloaded from its second call on: ${secondary} gets the tool results and finishes`, async () => {
			const { emulator } = ctx;
			emulator.loadScenario({
				...TWO_TOOLS,
				rules: [{ provider: primary, afterCalls: 1, fault: 'overloaded' }],
			});
			emulator.resetCounts();
			const clock = new VirtualClock();
			const chain = chainOf(
				{ tiers: [tier(emulator, primary, { attempts: 2 }), tier(emulator, secondary)] },
				clock,
			);
			const run = await runAgent(chain, clock);

			assert.deepEqual(
				run.steps.map((s) => [s.outcome, s.provider]),
				[
					['answered', primary],
					['answered', secondary],
					['answered', secondary],
				],
			);
			assert.equal(run.steps[2].text, FINAL);
			assert.equal(run.steps[2].toolCalls, undefined, 'the final answer is text');
			assert.deepEqual(run.ran, { lookup_order: 1, request_refund: 1 }, 'each tool ran once');
			// Two tries on the primary for each of the later calls, one call to the second tier each.
			assert.equal(emulator.count(primary), 5);
			assert.equal(emulator.count(secondary), 2);

			const [second, third] = emulator.received(secondary);
			const firstCallId = run.steps[0].toolCalls?.[0].id ?? '';
			assert.ok(firstCallId, 'the primary named its call');
			assert.equal(second.toolResults, 1, 'the tool result the primary asked for');
			assert.equal(second.turn, 1, 'the script continues where the primary left it');
			assert.deepEqual(second.tools, ['lookup_order', 'request_refund']);
			const sent = JSON.stringify(second.body);
			assert.ok(sent.includes('LOOKUP-RESULT-7f3'), `the lookup result reached ${secondary}`);
			assert.ok(sent.includes('A-1001'), `the person's message reached ${secondary}`);
			assert.ok(sent.includes('You are a support agent.'), `the system text reached ${secondary}`);
			if (secondary !== 'ollama')
				assert.ok(sent.includes(firstCallId), `the primary's call id pairs call and result`);
			assert.equal(third.toolResults, 2);
			assert.ok(JSON.stringify(third.body).includes('REFUND-RESULT-9c1'));
		});
	}

	it('400 prompt too long after the first tool result: only a larger window is tried, and it finishes', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({
			...TWO_TOOLS,
			rules: [{ provider: 'anthropic', minToolResults: 1, fault: 'context_too_long' }],
		});
		emulator.resetCounts();
		const clock = new VirtualClock();
		const chain = chainOf(
			{
				tiers: [
					tier(emulator, 'anthropic', { contextWindow: 200_000 }),
					tier(emulator, 'openai', { contextWindow: 128_000 }),
					tier(emulator, 'gemini', { contextWindow: 1_048_576 }),
				],
			},
			clock,
		);
		const run = await runAgent(chain, clock);
		assert.deepEqual(
			run.steps.map((s) => [s.provider, s.tier]),
			[
				['anthropic', 1],
				['gemini', 3],
				['gemini', 3],
			],
		);
		assert.equal(run.steps[2].text, FINAL);
		assert.deepEqual(run.ran, { lookup_order: 1, request_refund: 1 });
		assert.equal(emulator.count('anthropic'), 3, 'a prompt that is too long is not retried');
		assert.equal(emulator.count('openai'), 0, 'a smaller window is not worth a call');
		const skipped = run.steps[1].attempts.find((a) => a.tier === 2);
		assert.equal(skipped?.status, 'skipped');
		assert.match(skipped?.message ?? '', /context window 128000 is not larger than 200000/);
		assert.deepEqual(
			emulator.received('gemini').map((c) => c.toolResults),
			[1, 2],
		);
	});

	it('every tier down: needs a human, with the plain reason', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({
			...TWO_TOOLS,
			rules: [
				{ provider: 'anthropic', afterCalls: 1, fault: 'overloaded' },
				{ provider: 'openai', fault: 'server_error' },
			],
		});
		emulator.resetCounts();
		const clock = new VirtualClock();
		const chain = chainOf(
			{
				tiers: [
					tier(emulator, 'anthropic', { attempts: 3 }),
					tier(emulator, 'openai', { attempts: 2 }),
				],
			},
			clock,
		);
		const run = await runAgent(chain, clock);
		assert.equal(run.steps.length, 2);
		assert.equal(run.steps[1].outcome, 'needs_human');
		assert.equal(
			run.steps[1].reasonText,
			'Every model in the chain failed; tier 1 anthropic/claude-haiku-4-5: overloaded (529) after 3 tries; tier 2 openai/gpt-4o-mini: server_error (500) after 2 tries.',
		);
		assert.deepEqual(run.ran, { lookup_order: 1 });
	});
});

describe('the same policy for conversations', () => {
	it('the circuit breaker: once the primary is known down, later calls of the run skip it', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({
			...TWO_TOOLS,
			rules: [{ provider: 'anthropic', afterCalls: 1, fault: 'overloaded' }],
		});
		emulator.resetCounts();
		const clock = new VirtualClock();
		const file = join(mkdtempSync(join(tmpdir(), 'conversation-breaker-')), 'state.sqlite');
		const breaker = new CircuitBreaker(
			new SqliteStateStore(file),
			{
				failureThreshold: 2,
				openMs: 60_000,
				longOpenMs: 60_000,
				probeLeaseMs: 2_000,
				failureRate: 0,
				rateWindowMs: 60_000,
				rateMinCalls: 10,
			},
			clock,
		);
		const chain = chainOf(
			{ tiers: [tier(emulator, 'anthropic', { attempts: 2 }), tier(emulator, 'openai')] },
			clock,
			breaker,
		);
		const run = await runAgent(chain, clock);
		assert.equal(run.steps[2].text, FINAL);
		assert.equal(emulator.count('anthropic'), 3, 'one answer, two failures, then no more calls');
		const third = run.steps[2].attempts[0];
		assert.equal(third.status, 'skipped');
		assert.equal(third.message, 'skipped: circuit open');
		assert.deepEqual(run.ran, { lookup_order: 1, request_refund: 1 });
	});

	it('a drill fails the primary without calling it; the conversation goes to tier 2', async () => {
		const { emulator } = ctx;
		emulator.loadScenario(TWO_TOOLS);
		emulator.resetCounts();
		const clock = new VirtualClock();
		const chain = chainOf(
			{
				tiers: [tier(emulator, 'anthropic', { attempts: 1 }), tier(emulator, 'gemini')],
				drill: 'primary_down',
			},
			clock,
		);
		const run = await runAgent(chain, clock);
		assert.deepEqual(
			run.steps.map((s) => [s.provider, s.drill]),
			[
				['gemini', 'primary_down'],
				['gemini', 'primary_down'],
				['gemini', 'primary_down'],
			],
		);
		assert.equal(emulator.count('anthropic'), 0);
		assert.equal(run.steps[2].text, FINAL);
	});

	it('JSON output checks apply to the text answer, not to tool calls', async () => {
		const { emulator } = ctx;
		const clock = new VirtualClock();
		const chain = chainOf(
			{ tiers: [tier(emulator, 'openai', { attempts: 1 })], output: { json: true } },
			clock,
		);
		emulator.loadScenario({
			turns: [
				{ toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }] },
				{ reply: '{"refund": "approved"}' },
			],
		});
		emulator.resetCounts();
		const good = await runAgent(chain, clock);
		assert.deepEqual(
			good.steps.map((s) => s.outcome),
			['answered', 'answered'],
		);
		assert.deepEqual(good.steps[1].json, { refund: 'approved' });
		// JSON mode would forbid tool calls on some providers: it is not asked for when tools are offered.
		assert.equal(emulator.received('openai')[0].body.response_format, undefined);

		emulator.loadScenario({
			turns: [
				{ toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1001' } }] },
				{ reply: 'The refund is approved.' },
			],
		});
		const bad = await runAgent(chain, clock);
		assert.equal(bad.steps[0].outcome, 'answered', 'a tool call is not checked as JSON');
		assert.equal(bad.steps[1].outcome, 'needs_human');
		assert.equal(bad.steps[1].attempts[0].errorClass, 'invalid_output');
	});

	it('a reply of tool calls alone is an answer, not empty output', async () => {
		const { emulator } = ctx;
		emulator.loadScenario(TWO_TOOLS);
		const clock = new VirtualClock();
		const chain = chainOf({ tiers: [tier(emulator, 'anthropic', { attempts: 1 })] }, clock);
		const result = await clock.run(
			chain.run({ messages: [{ role: 'user', content: 'Refund A-1001.' }], tools: TOOLS }),
		);
		assert.equal(result.outcome, 'answered', result.reasonText);
		assert.equal(result.text, '');
		assert.equal(result.toolCalls?.[0].name, 'lookup_order');
	});
});

describe('a conversation that cannot be sent', () => {
	const clock = new VirtualClock();
	const chain = () => chainOf({ tiers: [tier(ctx.emulator, 'openai')] }, clock);

	async function refused(task: unknown, field: string, message: RegExp): Promise<void> {
		ctx.emulator.resetCounts();
		await assert.rejects(
			chain().run(task as Task),
			(error: unknown) =>
				error instanceof ConfigError && error.field === field && message.test(error.message),
			`expected a ConfigError on ${field}`,
		);
		assert.equal(ctx.emulator.stats().total, 0, 'no provider was called');
	}

	it('names the message or tool at fault', async () => {
		await refused({ messages: [] }, 'messages', /non-empty list/);
		await refused(
			{ messages: [{ role: 'system', content: 'x' }] },
			'messages',
			/only system messages/,
		);
		await refused({ messages: [{ role: 'bot', content: 'x' }] }, 'messages[0].role', /one of/);
		await refused(
			{ messages: [{ role: 'user', content: 'hi' }, { role: 'assistant' }] },
			'messages[1].content',
			/must be text/,
		);
		await refused(
			{
				messages: [
					{ role: 'user', content: 'hi' },
					{ role: 'tool', toolCallId: 'call_9', name: 'lookup_order', content: '{}' },
				],
			},
			'messages[1].toolCallId',
			/answers no tool call of an earlier assistant message \("call_9"\)/,
		);
		await refused(
			{
				messages: [
					{ role: 'user', content: 'hi' },
					{
						role: 'assistant',
						content: '',
						toolCalls: [{ id: 'c1', name: 'lookup_order', arguments: 'A-1001' }],
					},
				],
			},
			'messages[1].toolCalls[0].arguments',
			/must be an object/,
		);
		const user = [{ role: 'user', content: 'hi' }];
		await refused(
			{ messages: user, tools: [{ ...TOOLS[0], name: 'look up order' }] },
			'tools[0].name',
			/letters, digits, _ or -/,
		);
		await refused({ messages: user, tools: [TOOLS[0], TOOLS[0]] }, 'tools[1].name', /named twice/);
		await refused(
			{ messages: user, tools: [{ name: 'x', parameters: 'none' }] },
			'tools[0].parameters',
			/JSON Schema object/,
		);
	});
});
