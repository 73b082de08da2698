/**
 * The Resilient LLM node inside a real n8n 2.41.1: loaded as an installed community package,
 * run through production webhooks, results read back from the stored executions.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { Execution } from '../harness/n8n';
import { CaptureServer } from '../support/captureServer';
import { KEYS, MODELS } from '../support/emulator';
import { useN8n } from '../support/n8nFixture';
import { LLM_TYPE, llmWorkflow } from '../support/workflows';

const ctx = useN8n();

type Item = { json: Record<string, unknown>; pairedItem?: unknown };

/** The items on each output of a node in a finished execution. */
function outputsOf(execution: Execution, node = 'Resilient LLM'): Item[][] {
	const runs = execution.data?.resultData.runData[node];
	assert.ok(
		runs?.length,
		`${node} did not run: ${JSON.stringify(execution.data?.resultData.error ?? execution.status)}`,
	);
	return (runs[0].data?.main ?? []).map((items) => (items ?? []) as Item[]);
}

const TWO_TIERS = {
	tiers: [
		{ provider: 'anthropic', model: MODELS.anthropic, attempts: 3, timeoutSeconds: 10 },
		{ provider: 'openai', model: MODELS.openai, attempts: 2, timeoutSeconds: 10 },
	],
};

function params(extra: Record<string, unknown> = {}): Record<string, unknown> {
	return {
		prompt: '={{ $json.text }}',
		chain: TWO_TIERS,
		// Breaker off: these tests share one n8n and one credential, and each asserts on the
		// calls of its own scenario, which a circuit opened by an earlier test would skip.
		options: { initialBackoffMs: 20, deadlineSeconds: 30, circuitBreaker: false },
		...extra,
	};
}

let workflowCount = 0;
async function run(
	parameters: Record<string, unknown>,
	items: unknown[],
	node: Record<string, unknown> = {},
	expectStatus = 200,
): Promise<{ execution: Execution; outputs: Item[][] }> {
	const path = `llm-${++workflowCount}`;
	const id = await ctx.n8n.createWorkflow(
		llmWorkflow(`Resilient LLM e2e ${workflowCount}`, path, parameters, ctx.credentials, node),
	);
	const response = await ctx.n8n.webhook(path, { items });
	const execution = await ctx.n8n.latestExecution(id);
	assert.equal(
		response.status,
		expectStatus,
		`${JSON.stringify(response.body)} ${JSON.stringify(execution.data?.resultData.error)}`,
	);
	return { execution, outputs: expectStatus === 200 ? outputsOf(execution) : [] };
}

function setScenario(rules: unknown[]): void {
	ctx.emulator.loadScenario({ apiKeys: KEYS, rules });
	ctx.emulator.resetCounts();
}

describe('Resilient LLM in n8n', () => {
	it('loads with its credentials and icon, and no warnings about it in the log', async () => {
		const types = await ctx.n8n.rest<
			Array<{
				name: string;
				displayName: string;
				iconUrl?: unknown;
				outputNames?: string[];
				credentials?: Array<{ name: string }>;
			}>
		>('GET', '/types/nodes.json');
		const node = types.find((t) => t.name === LLM_TYPE);
		assert.ok(node, 'the node is in the node list');
		assert.equal(node.displayName, 'Resilient LLM');
		assert.deepEqual(node.outputNames, ['Answered', 'Needs Human']);
		assert.deepEqual(
			node.credentials?.map((c) => c.name),
			[
				'resilientLlmAnthropicApi',
				'resilientLlmGeminiApi',
				'resilientLlmOllamaApi',
				'resilientLlmOpenAiApi',
				'resilientLlmOpenAiCompatibleApi',
				'resilientLlmRedisApi',
			],
		);
		for (const other of [
			'n8n-nodes-resilient-llm.humanReview',
			'n8n-nodes-resilient-llm.resilienceAlert',
		]) {
			assert.ok(
				types.some((t) => t.name === other),
				`${other} is in the node list`,
			);
		}
		const icons = node.iconUrl as { light: string; dark: string };
		for (const url of [icons.light, icons.dark]) {
			const icon = await fetch(`${ctx.n8n.baseUrl}/${url}`);
			assert.equal(icon.status, 200, url);
			assert.match(await icon.text(), /<svg/);
		}
		const credentialTypes = await ctx.n8n.rest<Array<{ name: string }>>(
			'GET',
			'/types/credentials.json',
		);
		for (const type of [
			'resilientLlmAnthropicApi',
			'resilientLlmOpenAiApi',
			'resilientLlmGeminiApi',
			'resilientLlmOllamaApi',
			'resilientLlmOpenAiCompatibleApi',
			'resilientLlmRedisApi',
		]) {
			assert.ok(
				credentialTypes.some((c) => c.name === type),
				`${type} is known`,
			);
		}
		const complaints = ctx.n8n
			.logs()
			.split('\n')
			.filter(
				(line) => /resilient/i.test(line) && /warn|error|fail|could not|deprecat/i.test(line),
			);
		assert.deepEqual(complaints, []);
	});

	it('credential tests pass against the emulator and fail clearly on a wrong key', async () => {
		const urls = ctx.emulator.urls;
		const cases = [
			['resilientLlmAnthropicApi', KEYS.anthropic, urls.anthropic],
			['resilientLlmOpenAiApi', KEYS.openai, urls.openai],
			['resilientLlmGeminiApi', KEYS.gemini, urls.gemini],
			['resilientLlmOllamaApi', KEYS.ollama, urls.ollama],
		] as const;
		const test = async (type: string, apiKey: string, baseUrl: string) => {
			const data = { apiKey, baseUrl };
			const id = await ctx.n8n.createCredential(`probe ${type} ${apiKey.slice(0, 5)}`, type, data);
			return ctx.n8n.rest<{ status: string; message: string }>('POST', '/rest/credentials/test', {
				credentials: { id, name: 'probe', type, data },
			});
		};
		for (const [type, key, baseUrl] of cases) {
			const good = await test(type, key, baseUrl);
			assert.equal(good.status, 'OK', `${type}: ${good.message}`);
			const bad = await test(type, 'wrong-key', baseUrl);
			assert.equal(bad.status, 'Error', type);
			assert.match(
				bad.message,
				/401|400|Authorization|invalid|not valid|unauthorized/i,
				`${type}: ${bad.message}`,
			);
		}
	});

	it('a credential test does not follow a redirect to another host, so the key stays on its own', async () => {
		const other = new CaptureServer();
		await other.start();
		const redirecting = new CaptureServer((request, res) => {
			res.writeHead(302, { location: `${other.url}${request.path}` });
			res.end();
		});
		await redirecting.start();
		try {
			const cases = [
				['resilientLlmAnthropicApi', KEYS.anthropic],
				['resilientLlmOpenAiApi', KEYS.openai],
				['resilientLlmGeminiApi', KEYS.gemini],
				['resilientLlmOllamaApi', KEYS.ollama],
			] as const;
			for (const [type, apiKey] of cases) {
				const data = { apiKey, baseUrl: redirecting.url };
				const id = await ctx.n8n.createCredential(`redirected ${type}`, type, data);
				const result = await ctx.n8n.rest<{ status: string; message: string }>(
					'POST',
					'/rest/credentials/test',
					{ credentials: { id, name: 'redirected', type, data } },
				);
				assert.equal(result.status, 'Error', `${type}: ${result.message}`);
			}
			assert.equal(
				redirecting.requests.length,
				cases.length,
				"each test reached its credential's host",
			);
			assert.deepEqual(other.requests, [], 'the other host received nothing');
		} finally {
			await redirecting.stop();
			await other.stop();
		}
	});

	it("the model picker lists the emulator's models through n8n's own endpoint, as the editor asks", async () => {
		setScenario([]);
		const pick = (provider: string, credentials: Record<string, unknown>) =>
			ctx.n8n.rest<{ results: Array<{ name: string; value: string }> }>(
				'POST',
				'/rest/dynamic-node-parameters/resource-locator-results',
				{
					nodeTypeAndVersion: { name: LLM_TYPE, version: 1 },
					path: 'parameters.chain.tiers[1].model',
					methodName: 'listModels',
					currentNodeParameters: {
						prompt: 'hi',
						chain: {
							tiers: [
								{ provider: 'gemini', model: { __rl: true, mode: 'list', value: '' } },
								{ provider, model: { __rl: true, mode: 'list', value: '' } },
							],
						},
					},
					credentials,
				},
			);
		const anthropic = await pick('anthropic', {
			resilientLlmAnthropicApi: ctx.credentials.resilientLlmAnthropicApi,
		});
		assert.deepEqual(
			anthropic.results.map((r) => r.value),
			['claude-haiku-4-5', 'claude-sonnet-4-5'],
		);
		const openai = await pick('openai', {
			resilientLlmOpenAiApi: ctx.credentials.resilientLlmOpenAiApi,
		});
		assert.ok(
			openai.results.some((r) => r.value === 'gpt-4o-mini'),
			JSON.stringify(openai.results),
		);
		await assert.rejects(
			pick('openai', {}),
			/Select a \\"Resilient LLM: OpenAI API\\" credential on this node/,
		);
	});

	it('runs tiers saved by the model picker with Tier Options, and tiers saved before them', async () => {
		setScenario([]);
		const rl = (value: string) => ({ __rl: true, mode: 'list', value, cachedResultName: value });
		const current = {
			tiers: [
				{
					provider: 'openai_compatible',
					model: rl('qwen2.5'),
					attempts: 1,
					tierOptions: { baseUrl: ctx.emulator.urls.openai, inputPrice: 2, outputPrice: 4 },
				},
			],
		};
		const older = {
			tiers: [
				{
					provider: 'openai_compatible',
					model: 'qwen2.5',
					attempts: 1,
					baseUrl: ctx.emulator.urls.openai,
					inputPrice: 2,
					outputPrice: 4,
				},
			],
		};
		for (const chain of [current, older]) {
			// Saved before the OpenAI-Compatible credential: the OpenAI one is read, and its key
			// goes to the tier's URL because that is on the credential's own host.
			const { outputs } = await run(params({ chain }), [{ text: 'Summarise.' }]);
			const item = outputs[0][0]?.json;
			assert.equal(item?.text, 'Emulated answer from openai/qwen2.5.', JSON.stringify(outputs));
			const resilience = item.resilience as {
				usage: { inputTokens: number; outputTokens: number };
				costUsd: number;
			};
			assert.equal(
				resilience.costUsd,
				(resilience.usage.inputTokens * 2 + resilience.usage.outputTokens * 4) / 1e6,
			);
		}
	});

	it('answers from tier 1 (and using the embedded store adds no warning to the log)', async () => {
		setScenario([]);
		const { outputs } = await run(params(), [
			{ text: 'Summarise: the parcel arrived late.', ticket: 'T-1' },
		]);
		assert.equal(outputs[0].length, 1);
		assert.equal(outputs[1].length, 0);
		const item = outputs[0][0].json;
		assert.equal(item.text, `Emulated answer from anthropic/${MODELS.anthropic}.`);
		assert.equal(item.ticket, 'T-1', 'input fields are kept');
		const resilience = item.resilience as Record<string, unknown>;
		assert.equal(resilience.tier, 1);
		assert.equal(resilience.provider, 'anthropic');
		assert.ok((resilience.costUsd as number) > 0);
		assert.equal(ctx.emulator.count('anthropic'), 1);
		assert.doesNotMatch(
			ctx.n8n.logs(),
			/ExperimentalWarning: SQLite/,
			'the alert counters opened node:sqlite quietly',
		);
	});

	it('answers from tier 2 while the primary returns 529s, and says so', async () => {
		setScenario([{ provider: 'anthropic', fault: 'overloaded' }]);
		const { outputs } = await run(params(), [{ text: 'Summarise: refund requested.' }]);
		assert.equal(outputs[0].length, 1);
		const resilience = outputs[0][0].json.resilience as {
			tier: number;
			provider: string;
			attempts: Array<{ tier: number; errorClass?: string; httpStatus?: number }>;
		};
		assert.equal(resilience.tier, 2);
		assert.equal(resilience.provider, 'openai');
		assert.deepEqual(
			resilience.attempts.map((a) => [a.tier, a.errorClass ?? 'ok', a.httpStatus]),
			[
				[1, 'overloaded', 529],
				[1, 'overloaded', 529],
				[1, 'overloaded', 529],
				[2, 'ok', 200],
			],
		);
		assert.equal(ctx.emulator.count('anthropic'), 3);
	});

	it('sends items to Needs Human with the reason when every provider is down', async () => {
		setScenario([{ fault: 'server_error' }]);
		const { outputs } = await run(params(), [{ text: 'Summarise: broken screen.', ticket: 'T-9' }]);
		assert.equal(outputs[0].length, 0);
		assert.equal(outputs[1].length, 1);
		const item = outputs[1][0].json;
		assert.equal(item.ticket, 'T-9');
		assert.equal(item.prompt, 'Summarise: broken screen.');
		assert.match(
			String(item.reason),
			/Every model in the chain failed; tier 1 anthropic\/claude-haiku-4-5: server_error \(500\) after 3 tries; tier 2 openai\/gpt-4o-mini: server_error \(500\) after 2 tries/,
		);
		const resilience = item.resilience as { outcome: string; reason: string; attempts: unknown[] };
		assert.equal(resilience.outcome, 'needs_human');
		assert.equal(resilience.reason, 'all_tiers_failed');
		assert.equal(resilience.attempts.length, 5);
	});

	it('never answers a high-stakes task from tier 2', async () => {
		setScenario([{ provider: 'anthropic', fault: 'overloaded' }]);
		const { outputs } = await run(params({ criticality: 'high_stakes' }), [
			{ text: 'Approve refund R-77 of 900 EUR?' },
		]);
		assert.equal(outputs[0].length, 0);
		assert.equal(outputs[1].length, 1);
		assert.equal(
			(outputs[1][0].json.resilience as { reason: string }).reason,
			'degrade_not_allowed',
		);
		assert.equal(ctx.emulator.count('openai'), 0, 'the fallback model was never called');
	});

	it('puts each of 50 items with mixed faults on exactly one output, paired to its input', async () => {
		// Faults keyed to the prompt's model choice would be brittle; instead the primary fails
		// at random for a third of calls, and the secondary for a fifth, so all three routes occur.
		ctx.emulator.loadScenario({
			apiKeys: KEYS,
			rules: [
				{ provider: 'anthropic', fault: 'overloaded', rate: 0.35 },
				{ provider: 'openai', fault: 'server_error', rate: 0.5 },
			],
		});
		const items = Array.from({ length: 50 }, (_, i) => ({ text: `Summarise ticket ${i}.`, n: i }));
		const parameters = params({
			chain: {
				tiers: [
					{ provider: 'anthropic', model: MODELS.anthropic, attempts: 1, timeoutSeconds: 10 },
					{ provider: 'openai', model: MODELS.openai, attempts: 1, timeoutSeconds: 10 },
				],
			},
			options: { initialBackoffMs: 5, deadlineSeconds: 30, concurrency: 8, circuitBreaker: false },
		});
		const { outputs } = await run(parameters, items);
		const seen = new Map<number, string>();
		for (const [output, name] of [
			[0, 'answered'],
			[1, 'needs human'],
		] as const) {
			for (const item of outputs[output]) {
				const n = item.json.n as number;
				assert.ok(!seen.has(n), `item ${n} appears twice`);
				seen.set(n, name);
				assert.deepEqual(item.pairedItem, { item: n }, `item ${n} pairs to input ${n}`);
				if (name === 'answered')
					assert.equal(
						item.json.text,
						`Emulated answer from ${(item.json.resilience as { provider: string }).provider}/${(item.json.resilience as { model: string }).model}.`,
					);
			}
		}
		assert.equal(seen.size, 50, 'every item came out');
		const tiers = outputs[0].map((i) => (i.json.resilience as { tier: number }).tier);
		assert.ok(
			tiers.includes(1) && tiers.includes(2),
			`answers from both tiers: ${tiers.join(',')}`,
		);
		assert.ok(outputs[1].length > 0, 'some items needed a human');
		for (const output of outputs) {
			const order = output.map((i) => i.json.n as number);
			assert.deepEqual(
				order,
				[...order].sort((a, b) => a - b),
				'input order is kept on each output',
			);
		}
	});

	it('with On Error set to the error output, a bad prompt goes there and the other items go on', async () => {
		setScenario([]);
		const items = [
			{ text: 'Summarise A.', n: 0 },
			{ text: { nested: true }, n: 1 },
			{ text: 'Summarise C.', n: 2 },
		];
		const { outputs } = await run(params(), items, { onError: 'continueErrorOutput' });
		assert.equal(outputs.length, 3, 'Answered, Needs Human and Error');
		assert.deepEqual(
			outputs[0].map((i) => i.json.n),
			[0, 2],
		);
		assert.equal(outputs[1].length, 0);
		assert.equal(outputs[2].length, 1);
		assert.equal(outputs[2][0].json.error, 'Item 1: the Prompt is empty');
		assert.deepEqual(
			outputs[2][0].pairedItem,
			{ item: 1 },
			'the error item points back at its input',
		);
	});

	it('without On Error, a bad prompt stops the workflow with a message naming the item and field', async () => {
		setScenario([]);
		const { execution } = await run(params(), [{ text: 'fine' }, { text: '' }], {}, 500);
		assert.equal(execution.status, 'error');
		const error = execution.data?.resultData.error;
		assert.equal(error?.message, 'Item 1: the Prompt is empty');
		assert.match(String(error?.description), /resolved to an empty string for item 1/);
		assert.equal(ctx.emulator.stats().total, 0, 'no provider was called');
	});
	// Real models take seconds: a batch whose first calls open new circuits, with answers
	// taking 2 s and 5 s in turn, on the node's defaults (breaker on, Concurrency 5).
	for (const tiers of [1, 2]) {
		it(`at real providers' speed, a first batch on new circuits is answered by tier 1 (${tiers} tier${tiers > 1 ? 's' : ''})`, async () => {
			const model = `claude-slow-${tiers}`;
			ctx.emulator.loadScenario({
				apiKeys: KEYS,
				latencyMs: 2_000,
				rules: [{ provider: 'anthropic', every: 2, latencyMs: 3_000 }],
			});
			ctx.emulator.resetCounts();
			const chain = {
				tiers: [
					{ provider: 'anthropic', model, attempts: 3, timeoutSeconds: 60 },
					{ provider: 'openai', model: `gpt-slow-${tiers}`, attempts: 3, timeoutSeconds: 60 },
				].slice(0, tiers),
			};
			const items = Array.from({ length: 8 }, (_, i) => ({ text: `Slow item ${i}` }));
			const { outputs } = await run({ prompt: '={{ $json.text }}', chain, options: {} }, items);
			const [answered, needsHuman] = outputs;
			assert.equal(
				needsHuman?.length ?? 0,
				0,
				JSON.stringify(needsHuman?.map((item) => item.json.reason)),
			);
			assert.deepEqual(
				answered.map((item) => (item.json.resilience as { tier: number }).tier),
				items.map(() => 1),
			);
			assert.equal(ctx.emulator.count('anthropic', model), 8, 'one call per item');
			assert.equal(ctx.emulator.count('openai'), 0, 'no failover');
		});
	}
});
