/**
 * An AI Agent with a tool, in a real n8n 2.41.1, on Resilient Chat Model whose tier 1 is n8n's
 * own OpenAI Chat Model on its Model 1 input and whose tier 2 is the built-in Anthropic tier:
 * the connected model goes down between the agent's tool call and its answer, the built-in
 * tier takes the conversation over with the tool's result, and the next run is the connected
 * model's again. Then the same failover streamed to a client at a model's pace.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Turn } from '../../lib/emulator/scenario';
import type { Execution, ExecutionItem } from '../harness/n8n';
import { agentWorkflow, chatModelParameters, codeTool } from '../support/agentWorkflows';
import { connectedTier, stockModel, stockModelNode } from '../support/connectedModels';
import { KEYS, MODELS } from '../support/emulator';
import { useN8n } from '../support/n8nFixture';
import { withModels } from '../support/stockModels';
import { streamWebhook } from '../support/streamingClient';

const ctx = useN8n();
const openAi = stockModel('OpenAI Chat Model');

const LOOKUP_SCHEMA = {
	type: 'object',
	properties: { orderId: { type: 'string', description: 'The order number, e.g. 1001' } },
	required: ['orderId'],
};
const LOOKUP_CODE = `return JSON.stringify({ orderId: String(query.orderId), item: 'Blender', status: 'delivered on Tuesday' });`;

const FINAL_ANSWER =
	'Order 1001, your blender, was delivered on Tuesday; I am sorry it came two days later than promised.';

const TURNS: Turn[] = [
	{ toolCalls: [{ name: 'Order_Lookup', arguments: { orderId: '1001' } }] },
	{ reply: FINAL_ANSWER },
];

/**
 * The circuit breaker stays on, as the node ships: the two failed tries of run 1 are fewer
 * than its threshold (5 in a row), and the five calls to tier 1 fewer than the failure rate's
 * minimum (10), so the connected model's circuit stays closed and run 2 goes to it first.
 */
const TIERS = [
	connectedTier(1, 2),
	{ provider: 'anthropic', model: MODELS.anthropic, attempts: 1, timeoutSeconds: 20 },
];

/** The connected model fails every call from its second on, before any token. */
const OPENAI_DOWN_AFTER_FIRST = { provider: 'openai', model: openAi.model, afterCalls: 1 };

function load(rules: unknown[], extra: Record<string, unknown> = {}): void {
	ctx.emulator.loadScenario({ apiKeys: KEYS, turns: TURNS, rules, ...extra });
	ctx.emulator.resetCounts();
}

let workflows = 0;

/** Webhook -> AI Agent with the Order Lookup Code Tool and Resilient Chat Model, OpenAI Chat Model on its Model 1. */
async function deploy(streaming: boolean): Promise<{ id: string; path: string }> {
	const path = `connected-agent-${++workflows}`;
	const lookup = codeTool(
		'Order Lookup',
		'Looks up an order by its number',
		LOOKUP_CODE,
		LOOKUP_SCHEMA,
		[460, 220],
	);
	const agent = agentWorkflow({
		name: `Connected agent ${workflows}`,
		path,
		chatModel: { ...chatModelParameters(TIERS, { circuitBreaker: true }), connectedModels: 1 },
		credentials: ctx.credentials,
		tools: [lookup],
		streaming,
	});
	const model = await stockModelNode(ctx.n8n, ctx.emulator, openAi, [300, 440]);
	const id = await ctx.n8n.createWorkflow(withModels(agent, 'Resilient Chat Model', [model]));
	return { id, path };
}

/** Runs `call` and returns the workflow's execution it made (a new one, finished). */
async function newExecution<T>(id: string, call: () => Promise<T>): Promise<[T, Execution]> {
	const before = new Set((await ctx.n8n.executions(id)).map((e) => e.id));
	const result = await call();
	const deadline = Date.now() + 60_000;
	for (;;) {
		const [latest] = await ctx.n8n.executions(id, 1);
		if (latest && !before.has(latest.id) && !['running', 'new'].includes(latest.status))
			return [result, await ctx.n8n.execution(latest.id)];
		assert.ok(Date.now() < deadline, `no new finished execution of workflow ${id}`);
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
}

interface CallSummary {
	outcome: string;
	tier?: number;
	provider?: string;
	attempts: Array<{ tier: number; model: string; status: string; errorClass?: string }>;
}

/** Each model call as Resilient Chat Model's output panel shows it. */
function summaries(execution: Execution): CallSummary[] {
	const runs = execution.data?.resultData.runData['Resilient Chat Model'] ?? [];
	return runs.map((run) => {
		assert.ok(!run.error, `a model call failed: ${run.error?.message}`);
		const data = (run.data as unknown as Record<string, ExecutionItem[][]>)?.ai_languageModel;
		const summary = data?.[0]?.[0]?.json.resilience as CallSummary | undefined;
		assert.ok(summary, `no resilience summary on ${JSON.stringify(run)}`);
		return summary;
	});
}

/** Who answered each call, and each try's model and status. */
const CONNECTED = `${openAi.name} (${openAi.model})`;
const BUILT_IN = `anthropic/${MODELS.anthropic}`;
const whoAnswered = (execution: Execution) =>
	summaries(execution).map((c) => ({
		tier: c.tier,
		provider: c.provider,
		tries: c.attempts.map((a) => `${a.tier} ${a.model}: ${a.errorClass ?? a.status}`),
	}));

const FAILED_OVER = [
	{ tier: 1, provider: 'connected', tries: [`1 ${CONNECTED}: ok`] },
	{
		tier: 2,
		provider: 'anthropic',
		tries: [`1 ${CONNECTED}: server_error`, `1 ${CONNECTED}: server_error`, `2 ${BUILT_IN}: ok`],
	},
];

const runsOf = (execution: Execution, node: string) =>
	execution.data?.resultData.runData[node]?.length ?? 0;

/**
 * The built-in tier got the whole conversation: the person's message, the connected model's
 * tool call under the id that model gave it, and the tool's result answering that id; the
 * same call as the agent sent it back to the connected model on its failed tries.
 */
function assertAnthropicGotTheToolResult(): void {
	const [call] = ctx.emulator.received('anthropic');
	assert.ok(call, 'Anthropic was called');
	assert.equal(call.toolResults, 1);
	const messages = call.body.messages as Array<{ role: string; content: unknown }>;
	const blocks = messages.flatMap((m) =>
		Array.isArray(m.content) ? (m.content as Array<Record<string, unknown>>) : [],
	);
	const toolUse = blocks.find((b) => b.type === 'tool_use');
	const toolResult = blocks.find((b) => b.type === 'tool_result');
	assert.equal(toolUse?.name, 'Order_Lookup', JSON.stringify(messages));
	assert.equal((toolUse?.input as { orderId?: unknown }).orderId, '1001');
	assert.equal(toolResult?.tool_use_id, toolUse?.id, 'the result answers the call');
	assert.match(JSON.stringify(toolResult?.content), /Blender.*delivered on Tuesday/);
	assert.match(JSON.stringify(messages[0]), /Where is order 1001/);
	const retried = ctx.emulator.received('openai')[1]?.body.messages as Array<{
		tool_calls?: Array<{ id: string; function: { arguments: string } }>;
	}>;
	const openAiCalls = retried.flatMap((m) => m.tool_calls ?? []);
	// n8n's agent replays a call's arguments with its id among them, to every model alike.
	assert.deepEqual(
		openAiCalls.map((c) => [c.id, JSON.parse(c.function.arguments)]),
		[[toolUse?.id, toolUse?.input]],
	);
}

describe('AI Agent on Resilient Chat Model: connected OpenAI Chat Model, then built-in Anthropic', () => {
	it('fails over mid-conversation to the built-in tier and back on the next run; the tool runs once each run', async () => {
		const { id, path } = await deploy(false);
		const message = { message: 'Where is order 1001? It is late.' };

		load([{ ...OPENAI_DOWN_AFTER_FIRST, fault: 'server_error' }]);
		const [first, run1] = await newExecution(id, () => ctx.n8n.webhook(path, message));
		assert.equal(first.status, 200, JSON.stringify({ first, error: run1.data?.resultData.error }));
		assert.deepEqual(whoAnswered(run1), FAILED_OVER);
		assert.equal(runsOf(run1, 'Order Lookup'), 1, 'the tool ran once');
		assert.equal(runsOf(run1, openAi.name), 3, "one run of the connected node's panel per try");
		assert.equal(ctx.emulator.count('openai', openAi.model), 3);
		assert.equal(ctx.emulator.count('anthropic'), 1);
		assertAnthropicGotTheToolResult();
		const agentOut = run1.data?.resultData.runData['AI Agent']?.[0]?.data?.main?.[0] ?? [];
		assert.equal(agentOut[0]?.json.output, FINAL_ANSWER);

		load([]);
		const [second, run2] = await newExecution(id, () => ctx.n8n.webhook(path, message));
		assert.equal(second.status, 200, JSON.stringify(run2.data?.resultData.error));
		assert.deepEqual(whoAnswered(run2), [
			{ tier: 1, provider: 'connected', tries: [`1 ${CONNECTED}: ok`] },
			{ tier: 1, provider: 'connected', tries: [`1 ${CONNECTED}: ok`] },
		]);
		assert.equal(ctx.emulator.count('anthropic'), 0, 'the built-in tier was not called');
		assert.equal(ctx.emulator.count('openai', openAi.model), 2);
		assert.equal(ctx.emulator.received('openai')[1]?.toolResults, 1);
		assert.equal(runsOf(run2, 'Order Lookup'), 1, 'the tool ran once');
		const out2 = run2.data?.resultData.runData['AI Agent']?.[0]?.data?.main?.[0] ?? [];
		assert.equal(out2[0]?.json.output, FINAL_ANSWER);
	});

	it("streamed at a model's pace: the connected model fails before its first token, the built-in tier's words arrive in pieces, the whole answer once", async () => {
		const { id, path } = await deploy(true);
		// A model's pace (first token after 0.4-0.9 s, then 40-80 tokens a second).
		load([{ ...OPENAI_DOWN_AFTER_FIRST, fault: 'overloaded' }], { profile: 'realistic' });
		const [{ status, chunks }, execution] = await newExecution(id, () =>
			streamWebhook(
				`${ctx.n8n.baseUrl}/webhook/${path}`,
				{ message: 'Where is order 1001? It is late.' },
				() => ctx.emulator.answers(),
			),
		);
		assert.equal(status, 200, JSON.stringify({ chunks, error: execution.data?.resultData.error }));
		const texts = chunks.filter((c) => c.type === 'item' && c.metadata?.nodeName === 'AI Agent');
		assert.ok(texts.length > 3, `the answer came in pieces: ${JSON.stringify(chunks)}`);
		assert.equal(texts.map((c) => c.content).join(''), FINAL_ANSWER, 'the whole answer, once');
		assert.equal(texts[0].observed, 1, 'the first words came before the reply was complete');
		assert.equal(ctx.emulator.answers(), 2, 'the tool call (OpenAI) and the reply (Anthropic)');
		assert.deepEqual(
			chunks.filter((c) => c.type === 'error'),
			[],
		);
		assert.deepEqual(
			whoAnswered(execution),
			FAILED_OVER.map((call, i) =>
				i === 0
					? call
					: { ...call, tries: call.tries.map((t) => t.replace('server_error', 'overloaded')) },
			),
		);
		assert.equal(runsOf(execution, 'Order Lookup'), 1, 'the tool ran once');
		// Both tiers were asked for a stream: the connected node's and the built-in one.
		assert.equal(ctx.emulator.received('openai')[0]?.stream, true);
		assert.equal(ctx.emulator.received('anthropic')[0]?.stream, true);
		assertAnthropicGotTheToolResult();
	});
});
