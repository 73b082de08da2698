/**
 * Resilient Chat Model inside a real n8n 2.41.1, on the Chat Model input of n8n's own AI
 * Agent and Basic LLM Chain, with the provider emulator scripting the model's tool calls and
 * a fake order service behind two stock HTTP Request tools.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import type { Turn } from '../../lib/emulator/scenario';
import type { Execution, ExecutionItem } from '../harness/n8n';
import {
	agentWorkflow,
	chainWorkflow,
	chatModelParameters,
	TOOL_NAMES,
} from '../support/agentWorkflows';
import { KEYS, MODELS } from '../support/emulator';
import { useN8n } from '../support/n8nFixture';
import { OrderService } from '../support/orderService';

const ctx = useN8n();
const orders = new OrderService();
before(async () => await orders.start());
after(async () => await orders.stop());
beforeEach(() => orders.reset());

const FINAL_ANSWER = 'Order 42 arrived late; refund R-1 is requested.';

/** The model's side of the support conversation: look up, request the refund, answer. */
const TWO_TOOL_TURNS: Turn[] = [
	{ toolCalls: [{ name: TOOL_NAMES.lookup, arguments: { orderId: '42' } }] },
	{
		toolCalls: [
			{ name: TOOL_NAMES.refund, arguments: { orderId: '42', reason: 'delivered late' } },
		],
	},
	{ reply: FINAL_ANSWER },
];

const tier = (
	provider: 'anthropic' | 'openai' | 'gemini',
	extra: Record<string, unknown> = {},
) => ({
	provider,
	model: MODELS[provider],
	attempts: 2,
	timeoutSeconds: 10,
	...extra,
});

function setScenario(turns: Turn[], rules: unknown[]): void {
	ctx.emulator.loadScenario({ apiKeys: KEYS, turns, rules });
	ctx.emulator.resetCounts();
}

let workflows = 0;
async function runAgent(
	model: Record<string, unknown>,
	message: string,
	onError?: 'continueErrorOutput',
): Promise<{ status: number; body: unknown; execution: Execution }> {
	const path = `agent-${++workflows}`;
	const id = await ctx.n8n.createWorkflow(
		agentWorkflow({
			name: `Chat model e2e ${workflows}`,
			path,
			chatModel: model,
			credentials: ctx.credentials,
			orderServiceUrl: orders.baseUrl,
			onError,
		}),
	);
	const response = await ctx.n8n.webhook(path, { message });
	return { ...response, execution: await ctx.n8n.latestExecution(id) };
}

interface CallSummary {
	outcome: string;
	tier?: number;
	provider?: string;
	attempts: Array<{ tier: number; status: string; errorClass?: string; httpStatus?: number }>;
	latencyMs: number;
	usage: { inputTokens: number; outputTokens: number };
	costUsd: number;
}

/** Each model call as the sub-node's output panel shows it. */
function modelCalls(
	execution: Execution,
): Array<{ json: Record<string, unknown> } | { error: string }> {
	const runs = execution.data?.resultData.runData['Resilient Chat Model'] ?? [];
	return runs.map((run) => {
		if (run.error) return { error: run.error.message };
		const data = (run.data as unknown as Record<string, ExecutionItem[][]>)?.ai_languageModel;
		return { json: data?.[0]?.[0]?.json ?? {} };
	});
}

function summaries(execution: Execution): CallSummary[] {
	return modelCalls(execution).map((call) => {
		assert.ok('json' in call, `a model call failed: ${JSON.stringify(call)}`);
		const summary = call.json.resilience as CallSummary | undefined;
		assert.ok(summary, `no resilience summary on ${JSON.stringify(call.json)}`);
		return summary;
	});
}

function outputOf(execution: Execution, node: string): ExecutionItem[] {
	return execution.data?.resultData.runData[node]?.[0]?.data?.main?.[0] ?? [];
}

function runsOf(execution: Execution, node: string): number {
	return execution.data?.resultData.runData[node]?.length ?? 0;
}

describe('Resilient Chat Model in n8n', () => {
	it('is listed as a chat model with the chain credentials', async () => {
		const types = await ctx.n8n.rest<
			Array<{
				name: string;
				outputs?: unknown;
				codex?: { subcategories?: Record<string, string[]> };
			}>
		>('GET', '/types/nodes.json');
		const node = types.find((t) => t.name === 'n8n-nodes-resilient-llm.resilientChatModel');
		assert.ok(node, 'the node is in the node list');
		assert.deepEqual(node.outputs, ['ai_languageModel']);
		assert.deepEqual(node.codex?.subcategories?.['Language Models'], ['Chat Models (Recommended)']);
	});

	it('AI Agent: two tool calls while Anthropic answers 529 from its second call on; tier 2 answers the rest, each tool runs once', async () => {
		setScenario(TWO_TOOL_TURNS, [{ provider: 'anthropic', afterCalls: 1, fault: 'overloaded' }]);
		const { status, body, execution } = await runAgent(
			chatModelParameters([tier('anthropic'), tier('openai')]),
			'Order 42 came late. I want a refund.',
		);
		assert.equal(status, 200, JSON.stringify({ body, error: execution.data?.resultData.error }));

		const calls = summaries(execution);
		assert.deepEqual(
			calls.map((c) => [c.outcome, c.tier, c.provider]),
			[
				['answered', 1, 'anthropic'],
				['answered', 2, 'openai'],
				['answered', 2, 'openai'],
			],
		);
		// The second and third calls each tried Anthropic twice (529) before OpenAI answered.
		for (const call of calls.slice(1)) {
			assert.deepEqual(
				call.attempts.map((a) => [a.tier, a.status, a.httpStatus ?? null]),
				[
					[1, 'failed', 529],
					[1, 'failed', 529],
					[2, 'ok', 200],
				],
			);
			assert.ok(call.usage.inputTokens > 0 && call.costUsd > 0, JSON.stringify(call));
		}
		assert.equal(orders.count('/orders/42'), 1, 'the order was looked up once');
		assert.equal(orders.count('/refunds'), 1, 'the refund was requested once');
		assert.equal(orders.calls.find((c) => c.path === '/refunds')?.query.reason, 'delivered late');
		assert.equal(runsOf(execution, 'Order Lookup'), 1);
		assert.equal(runsOf(execution, 'Refund Request'), 1);
		assert.equal(outputOf(execution, 'AI Agent')[0]?.json.output, FINAL_ANSWER);
		assert.equal(ctx.emulator.count('openai'), 2);
		assert.equal(ctx.emulator.count('anthropic'), 5);
		// No key is in the stored execution, the sub-node's panel data included.
		const stored = JSON.stringify(execution);
		for (const key of [KEYS.anthropic, KEYS.openai]) assert.ok(!stored.includes(key));
		// The tool results reached tier 2 in OpenAI's wire format.
		const lastOpenAi = ctx.emulator.received('openai').at(-1);
		assert.match(JSON.stringify(lastOpenAi), /delivered late/);
	});

	it('AI Agent: the primary answers 400 "prompt too long" after the first tool result; a larger-window tier finishes', async () => {
		setScenario(TWO_TOOL_TURNS, [
			{ provider: 'anthropic', minToolResults: 1, fault: 'context_too_long' },
		]);
		const { status, execution } = await runAgent(
			chatModelParameters([
				tier('anthropic', { tierOptions: { contextWindow: 200_000 } }),
				tier('openai', { tierOptions: { contextWindow: 128_000 } }),
				tier('gemini', { tierOptions: { contextWindow: 1_000_000 } }),
			]),
			'Order 42 came late. I want a refund.',
		);
		assert.equal(status, 200, JSON.stringify(execution.data?.resultData.error));
		const calls = summaries(execution);
		assert.deepEqual(
			calls.map((c) => [c.tier, c.provider]),
			[
				[1, 'anthropic'],
				[3, 'gemini'],
				[3, 'gemini'],
			],
		);
		// Prompt too long is never retried, and the smaller window is never tried.
		const second = calls[1].attempts;
		assert.deepEqual(
			[second[0].tier, second[0].status, second[0].errorClass],
			[1, 'failed', 'context_too_long'],
		);
		assert.equal(second.filter((a) => a.tier === 1).length, 1);
		assert.ok(!second.some((a) => a.tier === 2 && a.status !== 'skipped'), JSON.stringify(second));
		assert.deepEqual([second.at(-1)?.tier, second.at(-1)?.status], [3, 'ok']);
		assert.equal(ctx.emulator.count('openai'), 0, 'the smaller window was never called');
		assert.equal(orders.count('/orders/42'), 1);
		assert.equal(orders.count('/refunds'), 1);
		assert.equal(outputOf(execution, 'AI Agent')[0]?.json.output, FINAL_ANSWER);
	});

	it("AI Agent: every tier down ends with the plain reason, routed by the agent's On Error setting", async () => {
		setScenario(TWO_TOOL_TURNS, [{ fault: 'overloaded' }]);
		const { status, execution } = await runAgent(
			chatModelParameters([tier('anthropic'), tier('openai'), tier('gemini')]),
			'Order 42 came late. I want a refund.',
			'continueErrorOutput',
		);
		assert.equal(status, 200, JSON.stringify(execution.data?.resultData.error));
		const escalated = outputOf(execution, 'Escalate');
		assert.equal(escalated.length, 1, 'the item left on the error output');
		assert.equal(runsOf(execution, 'Answered'), 0);
		const message = String(escalated[0].json.error);
		assert.equal(
			message,
			`Every model in the chain failed; tier 1 anthropic/${MODELS.anthropic}: overloaded (529) after 2 tries; tier 2 openai/${MODELS.openai}: overloaded (503) after 2 tries; tier 3 gemini/${MODELS.gemini}: overloaded (503) after 2 tries.`,
		);
		assert.equal(orders.calls.length, 0, 'no tool ran');
		// The failed call shows in the sub-node's panel with the same reason.
		assert.deepEqual(modelCalls(execution), [{ error: message }]);
	});

	it('Basic LLM Chain answers through failover', async () => {
		setScenario([], [{ provider: 'anthropic', fault: 'overloaded' }]);
		const path = `chain-${++workflows}`;
		const id = await ctx.n8n.createWorkflow(
			chainWorkflow(
				'Chat model chain e2e',
				path,
				chatModelParameters([tier('anthropic'), tier('openai')]),
				ctx.credentials,
			),
		);
		const response = await ctx.n8n.webhook(path, { message: 'Say hello.' });
		const execution = await ctx.n8n.latestExecution(id);
		assert.equal(response.status, 200, JSON.stringify(execution.data?.resultData.error));
		const text = String(outputOf(execution, 'Basic LLM Chain')[0]?.json.text ?? '');
		assert.match(text, /openai/i, `the emulator's reply names who answered: ${text}`);
		assert.deepEqual(
			summaries(execution).map((c) => [c.tier, c.provider]),
			[[2, 'openai']],
		);
	});
});
