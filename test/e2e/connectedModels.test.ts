/**
 * n8n's own chat model nodes connected to Resilient LLM's Model inputs, inside a real n8n
 * 2.41.1: each node's credential points it at the provider emulator, the chain calls it once
 * per try (its own retries off), and every failure is classified from what the node threw.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Execution } from '../harness/n8n';
import {
	STOCK_MODELS,
	connectedTier,
	connectedWorkflow,
	groqEnv,
	stockModel,
	stockModelNode,
} from '../support/connectedModels';
import type { StockModel } from '../support/connectedModels';
import { KEYS, MODELS } from '../support/emulator';
import { outputsOf } from '../support/executionOutputs';
import { useN8n } from '../support/n8nFixture';
import type { WorkflowNode } from '../support/workflows';

const ctx = useN8n(groqEnv);

interface Attempt {
	tier: number;
	provider: string;
	model: string;
	node?: string;
	status: string;
	errorClass?: string;
	httpStatus?: number;
}

interface Resilience {
	outcome: string;
	tier?: number;
	provider?: string;
	node?: string;
	reasonText: string;
	attempts: Attempt[];
}

/** Each fault the emulator sends, the class the chain must read, and the calls it makes (3 tries). */
const FAULTS = [
	{ fault: 'overloaded', errorClass: 'overloaded', calls: 3 },
	{ fault: 'rate_limited', errorClass: 'rate_limited', calls: 3 },
	{ fault: 'quota_exhausted', errorClass: 'quota_exhausted', calls: 1 },
	{ fault: 'server_error', errorClass: 'server_error', calls: 3 },
	{ fault: 'bad_request', errorClass: 'bad_request', calls: 1 },
	{ fault: 'context_too_long', errorClass: 'context_too_long', calls: 1 },
	{ fault: 'auth', errorClass: 'auth', calls: 1 },
	{ fault: 'drop', errorClass: 'connection', calls: 3 },
] as const;

/** Breaker off so every run reaches the model; backoff short so retries are quick. */
const OPTIONS = { initialBackoffMs: 10, deadlineSeconds: 60, circuitBreaker: false };

function setScenario(rules: unknown[]): void {
	ctx.emulator.loadScenario({ apiKeys: KEYS, rules });
	ctx.emulator.resetCounts();
}

let workflows = 0;
interface Deployed {
	id: string;
	path: string;
}

async function deploy(
	parameters: Record<string, unknown>,
	models: WorkflowNode[],
	connectedModels = models.length,
): Promise<Deployed> {
	const path = `connected-${++workflows}`;
	const id = await ctx.n8n.createWorkflow(
		connectedWorkflow(path, parameters, ctx.credentials, models, connectedModels),
	);
	return { id, path };
}

/** One item through the workflow; the execution it made (a new one, finished). */
async function runOnce(workflow: Deployed, text: string): Promise<Execution> {
	const before = new Set((await ctx.n8n.executions(workflow.id)).map((e) => e.id));
	await ctx.n8n.webhook(workflow.path, { items: [{ text }] });
	const deadline = Date.now() + 60_000;
	for (;;) {
		const [latest] = await ctx.n8n.executions(workflow.id, 1);
		if (latest && !before.has(latest.id) && !['running', 'new'].includes(latest.status))
			return ctx.n8n.execution(latest.id);
		assert.ok(Date.now() < deadline, `no new finished execution of ${workflow.path}`);
		await new Promise((resolve) => setTimeout(resolve, 200));
	}
}

/** The one item out of Resilient LLM, and which output it took. */
function onlyItem(execution: Execution): { output: string; resilience: Resilience } {
	const outputs = outputsOf(execution);
	const all = [
		...outputs.answered.map((json) => ({ output: 'answered', json })),
		...outputs.needsHuman.map((json) => ({ output: 'needs_human', json })),
	];
	assert.equal(all.length, 1, JSON.stringify(outputs));
	return { output: all[0].output, resilience: all[0].json.resilience as Resilience };
}

/** What one fault did to one node: where the item went, each try's class and node, the calls. */
async function faultRow(workflow: Deployed, model: StockModel, fault: string) {
	// No wait hint: Gemini's default RetryInfo (22 s) would be honoured before each retry.
	setScenario([{ provider: model.wire, model: model.model, fault, retryAfterS: 0 }]);
	const { output, resilience } = onlyItem(await runOnce(workflow, `Summarise (${fault}).`));
	return {
		fault,
		output,
		classes: resilience.attempts.map((a) => a.errorClass ?? a.status),
		nodes: [...new Set(resilience.attempts.map((a) => `${a.provider}:${a.node}`))],
		calls: ctx.emulator.count(model.wire, model.model),
	};
}

describe('stock chat model nodes connected as tier 1', () => {
	for (const model of STOCK_MODELS) {
		it(`${model.name}: answers through its credential's URL, and each fault is read and retried or not`, async () => {
			const node = await stockModelNode(ctx.n8n, ctx.emulator, model);
			const chain = { tiers: [connectedTier(1, 3)] };
			const workflow = await deploy({ prompt: '={{ $json.text }}', chain, options: OPTIONS }, [
				node,
			]);

			setScenario([]);
			const answered = onlyItem(await runOnce(workflow, 'Summarise: all is well.'));
			assert.equal(answered.output, 'answered', JSON.stringify(answered.resilience));
			assert.equal(answered.resilience.tier, 1);
			assert.equal(answered.resilience.provider, 'connected');
			assert.equal(answered.resilience.node, model.name);
			assert.equal(ctx.emulator.count(model.wire, model.model), 1, 'one call, on its wire');

			const rows = [];
			for (const { fault } of FAULTS) rows.push(await faultRow(workflow, model, fault));
			assert.deepEqual(
				rows,
				FAULTS.map(({ fault, errorClass, calls }) => ({
					fault,
					output: 'needs_human',
					classes: Array.from({ length: calls }, () => errorClass),
					nodes: [`connected:${model.name}`],
					calls,
				})),
			);
		});
	}
});

describe('connected models beside built-in tiers', () => {
	const openAi = stockModel('OpenAI Chat Model');
	const chain = {
		tiers: [
			connectedTier(1, 2),
			{ provider: 'anthropic', model: MODELS.anthropic, attempts: 1, timeoutSeconds: 10 },
		],
	};

	it('sends the item to Needs Human naming the connected node when both tiers fail', async () => {
		const node = await stockModelNode(ctx.n8n, ctx.emulator, openAi);
		const workflow = await deploy({ prompt: '={{ $json.text }}', chain, options: OPTIONS }, [node]);
		setScenario([
			{ provider: 'openai', model: openAi.model, fault: 'server_error' },
			{ provider: 'anthropic', model: MODELS.anthropic, fault: 'overloaded' },
		]);
		const { output, resilience } = onlyItem(await runOnce(workflow, 'Summarise: nobody home.'));
		assert.equal(output, 'needs_human');
		assert.equal(resilience.outcome, 'needs_human');
		assert.deepEqual(
			resilience.attempts.map((a) => [a.tier, a.provider, a.node, a.errorClass]),
			[
				[1, 'connected', 'OpenAI Chat Model', 'server_error'],
				[1, 'connected', 'OpenAI Chat Model', 'server_error'],
				[2, 'anthropic', undefined, 'overloaded'],
			],
		);
		assert.match(
			resilience.reasonText,
			/tier 1 OpenAI Chat Model \(gpt-4o-mini\): server_error \(500\) after 2 tries; tier 2 anthropic\/claude-haiku-4-5: overloaded \(529\) after 1 try/,
		);
		assert.equal(ctx.emulator.count('openai', openAi.model), 2);
		assert.equal(ctx.emulator.count('anthropic', MODELS.anthropic), 1);
	});

	it("fails over to the built-in tier 2 while the connected model is overloaded; the model's panel shows its calls", async () => {
		const node = await stockModelNode(ctx.n8n, ctx.emulator, openAi);
		const workflow = await deploy({ prompt: '={{ $json.text }}', chain, options: OPTIONS }, [node]);
		setScenario([{ provider: 'openai', model: openAi.model, fault: 'overloaded' }]);
		const execution = await runOnce(workflow, 'Summarise: the parcel is late.');
		const { output, resilience } = onlyItem(execution);
		assert.equal(output, 'answered', JSON.stringify(resilience));
		assert.equal(resilience.tier, 2);
		assert.equal(resilience.provider, 'anthropic');
		assert.deepEqual(
			resilience.attempts.map((a) => [a.tier, a.node, a.errorClass ?? a.status]),
			[
				[1, 'OpenAI Chat Model', 'overloaded'],
				[1, 'OpenAI Chat Model', 'overloaded'],
				[2, undefined, 'ok'],
			],
		);
		assert.equal(ctx.emulator.count('openai', openAi.model), 2);
		const panel = execution.data?.resultData.runData['OpenAI Chat Model'] ?? [];
		assert.equal(panel.length, 2, 'one run of the OpenAI Chat Model per call');
		for (const run of panel) assert.ok(run.error, 'each failed call shows as failed');
	});

	it('stops with an error naming the tier when the chain names Connected Model 2 of 1', async () => {
		const node = await stockModelNode(ctx.n8n, ctx.emulator, openAi);
		const workflow = await deploy(
			{ prompt: '={{ $json.text }}', chain: { tiers: [connectedTier(2)] }, options: OPTIONS },
			[node],
			1,
		);
		setScenario([]);
		const execution = await runOnce(workflow, 'Summarise: wrong input.');
		assert.equal(execution.status, 'error');
		const error = execution.data?.resultData.error;
		assert.match(
			String(error?.message),
			/^Tier 1 uses Connected Model 2, but this node has only 1 Model input/,
		);
		assert.equal(ctx.emulator.stats().total, 0, 'no model was called');
	});
});
