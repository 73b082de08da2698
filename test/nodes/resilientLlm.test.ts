/**
 * The node's parameter cases, in process: the node's execute() with n8n's interfaces faked,
 * the engine and SDKs real, providers from the emulator.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type {
	ICredentialDataDecryptedObject,
	INodeExecutionData,
	INodeListSearchResult,
} from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { PROVIDERS } from '../../lib/providers/registry';
import { ResilientLlm } from '../../nodes/ResilientLlm/ResilientLlm.node.ts';
import { readChainConfig } from '../../nodes/shared/chainConfig';
import { listModels } from '../../nodes/shared/modelSearch';
import { pickerContext } from '../support/pickerContext';
import { KEYS, MODELS, useEmulator } from '../support/emulator';
import { fakeExecute } from '../support/fakeExecute';
import { until } from '../support/until';
import type { ParameterValue } from '../support/fakeExecute';

const ctx = useEmulator();

function credentials(): Record<string, ICredentialDataDecryptedObject> {
	const urls = ctx.emulator.urls;
	return {
		resilientLlmAnthropicApi: { apiKey: KEYS.anthropic, baseUrl: urls.anthropic },
		resilientLlmOpenAiApi: { apiKey: KEYS.openai, baseUrl: urls.openai },
		resilientLlmGeminiApi: { apiKey: KEYS.gemini, baseUrl: urls.gemini },
		resilientLlmOllamaApi: { apiKey: '', baseUrl: urls.ollama },
	};
}

const CHAIN = {
	tiers: [
		{ provider: 'anthropic', model: MODELS.anthropic, attempts: 2, timeoutSeconds: 5 },
		{ provider: 'openai', model: MODELS.openai, attempts: 2, timeoutSeconds: 5 },
	],
};

async function execute(options: {
	items: Array<Record<string, unknown>>;
	parameters?: Record<string, ParameterValue>;
	credentials?: Record<string, ICredentialDataDecryptedObject>;
	continueOnFail?: boolean;
}) {
	const run = fakeExecute({
		items: options.items,
		parameters: {
			prompt: (i: number) => options.items[i].text,
			chain: CHAIN,
			options: { initialBackoffMs: 5 },
			...options.parameters,
		},
		credentials: options.credentials ?? credentials(),
		continueOnFail: options.continueOnFail,
	});
	const outputs = await new ResilientLlm().execute.call(run.context);
	return { outputs, logs: run.logs };
}

function resilience(item: INodeExecutionData): Record<string, unknown> {
	return item.json.resilience as Record<string, unknown>;
}

describe('bad input', () => {
	const prompts: Array<[string, unknown, RegExp]> = [
		['an object', { text: 'hi' }, /resolved to an object for item 1/],
		['an empty string', '  ', /resolved to an empty string for item 1/],
		['undefined', undefined, /resolved to nothing \(undefined\) for item 1/],
	];
	for (const [what, value, description] of prompts) {
		it(`a prompt that resolves to ${what} goes to the error output, naming the item and field`, async () => {
			ctx.emulator.loadScenario({});
			const items = [{ text: 'fine' }, { text: value }, { text: 'also fine' }];
			const { outputs } = await execute({ items, continueOnFail: true });
			assert.equal(outputs[0].length, 3, 'two answers and one error item, nothing lost');
			const errorItem = outputs[0].find((i) => i.json.error);
			assert.ok(errorItem);
			assert.equal(errorItem.json.error, 'Item 1: the Prompt is empty');
			assert.ok(errorItem.error instanceof NodeOperationError);
			assert.match(String(errorItem.error.description), description);
			assert.deepEqual(errorItem.pairedItem, { item: 1 });
			assert.deepEqual(
				outputs[0].map((i) => i.pairedItem),
				[{ item: 0 }, { item: 1 }, { item: 2 }],
			);
		});

		it(`a prompt that resolves to ${what} stops the workflow with a clear message before any call`, async () => {
			ctx.emulator.loadScenario({});
			ctx.emulator.resetCounts();
			await assert.rejects(
				execute({ items: [{ text: 'fine' }, { text: value }] }),
				(error: unknown) =>
					error instanceof NodeOperationError &&
					error.message === 'Item 1: the Prompt is empty' &&
					description.test(String(error.description)),
			);
			assert.equal(ctx.emulator.stats().total, 0, 'no provider was called');
		});
	}

	it('a chain with no tiers', async () => {
		await assert.rejects(
			execute({ items: [{ text: 'hi' }], parameters: { chain: {} } }),
			/Item 0: Model Chain add at least one model tier/,
		);
	});

	it('a tier whose provider has no credential selected', async () => {
		const { resilientLlmOpenAiApi, ...others } = credentials();
		void resilientLlmOpenAiApi;
		await assert.rejects(
			execute({ items: [{ text: 'hi' }], credentials: others }),
			(error: unknown) => {
				assert.ok(error instanceof NodeOperationError);
				assert.equal(
					error.message,
					'Tier 2 uses OpenAI, but no "Resilient LLM: OpenAI API" credential is selected on this node',
				);
				return true;
			},
		);
	});

	it('a non-positive timeout names the tier and the field', async () => {
		const chain = {
			tiers: [{ provider: 'anthropic', model: MODELS.anthropic, timeoutSeconds: 0 }],
		};
		await assert.rejects(
			execute({ items: [{ text: 'hi' }], parameters: { chain } }),
			/Item 0: Model Chain › Tier 1 › Timeout \(Seconds\) must be a positive number, got 0/,
		);
	});

	it('a JSON schema that is not JSON, or not a schema', async () => {
		await assert.rejects(
			execute({
				items: [{ text: 'hi' }],
				parameters: { outputFormat: 'json', jsonSchema: '{ type: object' },
			}),
			/Item 0: the JSON Schema is not valid JSON/,
		);
		await assert.rejects(
			execute({
				items: [{ text: 'hi' }],
				parameters: { outputFormat: 'json', jsonSchema: '{"type": "objekt"}' },
			}),
			/Item 0: JSON Schema is not a valid JSON Schema/,
		);
	});

	const breakerOptions: Array<[string, unknown, string]> = [
		[
			'breakerThreshold',
			'five',
			'Circuit Breaker Threshold must be a number of at least 1, got "five"',
		],
		[
			'breakerCooldownSeconds',
			'30s',
			'Circuit Breaker Cool-Down (Seconds) must be a number of at least 1, got "30s"',
		],
		[
			'breakerFailureRatePercent',
			'half',
			'Circuit Breaker Failure Rate (%) must be a number of at least 0, got "half"',
		],
		[
			'breakerWindowSeconds',
			{ seconds: 60 },
			'Circuit Breaker Window (Seconds) must be a number of at least 1, got {"seconds":60}',
		],
	];
	for (const [option, value, message] of breakerOptions) {
		it(`a Circuit Breaker option (${option}) that is not a number names the option, before any call`, async () => {
			ctx.emulator.loadScenario({});
			ctx.emulator.resetCounts();
			const parameters = { options: { initialBackoffMs: 5, [option]: value } };
			await assert.rejects(execute({ items: [{ text: 'hi' }], parameters }), (error: Error) => {
				assert.equal(error.message, `Item 0: Options › ${message}`);
				return true;
			});
			assert.equal(ctx.emulator.stats().total, 0, 'no provider was called');
			const { outputs } = await execute({
				items: [{ text: 'hi' }, { text: 'there' }],
				parameters,
				continueOnFail: true,
			});
			assert.deepEqual(
				outputs[0].map((i) => i.json.error),
				[`Item 0: Options › ${message}`, `Item 1: Options › ${message}`],
			);
		});
	}

	it('Circuit Breaker options given as numeric text are read as numbers', async () => {
		ctx.emulator.loadScenario({});
		const { outputs } = await execute({
			items: [{ text: 'hi' }],
			parameters: {
				options: { initialBackoffMs: 5, breakerThreshold: '7', breakerCooldownSeconds: '45' },
			},
		});
		assert.equal(outputs[0].length, 1);
		assert.equal(outputs[0][0].json.error, undefined);
	});

	it('a self-hosted OpenAI-compatible tier with its own base URL needs no credential', async () => {
		ctx.emulator.loadScenario({});
		const chain = {
			tiers: [
				{ provider: 'openai_compatible', model: 'qwen2.5', baseUrl: ctx.emulator.urls.openai },
			],
		};
		const { outputs } = await execute({
			items: [{ text: 'hi' }],
			parameters: { chain },
			credentials: {},
		});
		assert.equal(outputs[0][0].json.text, 'Emulated answer from openai/qwen2.5.');
	});
});

describe('saved tiers', () => {
	/** Runs one self-hosted tier priced at 2 and 4 USD per million tokens; checks answer and cost. */
	async function answersAtItsPrice(tier: Record<string, unknown>): Promise<void> {
		// No key on the self-hosted server: the tier runs without a credential.
		ctx.emulator.loadScenario({});
		const { outputs } = await execute({
			items: [{ text: 'hi' }],
			parameters: { chain: { tiers: [tier] } },
			credentials: {},
		});
		const item = outputs[0][0];
		assert.equal(item.json.text, 'Emulated answer from openai/qwen2.5.');
		const usage = resilience(item).usage as { inputTokens: number; outputTokens: number };
		assert.equal(resilience(item).costUsd, (usage.inputTokens * 2 + usage.outputTokens * 4) / 1e6);
	}

	it('a model chosen with the model picker, and a base URL under Tier Options, run', async () => {
		await answersAtItsPrice({
			provider: 'openai_compatible',
			model: { __rl: true, mode: 'list', value: 'qwen2.5', cachedResultName: 'qwen2.5' },
			tierOptions: { baseUrl: ctx.emulator.urls.openai, inputPrice: 2, outputPrice: 4 },
		});
	});

	it('First Token and Stall Timeout under Tier Options reach the tier in ms; unset, the engine decides', async () => {
		const run = fakeExecute({
			items: [{ text: 'hi' }],
			parameters: {
				chain: {
					tiers: [
						{
							...CHAIN.tiers[0],
							tierOptions: { firstTokenTimeoutSeconds: 2.5, stallTimeoutSeconds: 4 },
						},
						CHAIN.tiers[1],
					],
				},
			},
			credentials: credentials(),
		});
		const config = await readChainConfig(run.context, 0, new Map());
		assert.equal(config.tiers[0].firstTokenTimeoutMs, 2_500);
		assert.equal(config.tiers[0].stallTimeoutMs, 4_000);
		assert.equal(config.tiers[1].firstTokenTimeoutMs, undefined);
		assert.equal(config.tiers[1].stallTimeoutMs, undefined);
	});

	it('a tier saved before Tier Options keeps its base URL and prices', async () => {
		await answersAtItsPrice({
			provider: 'openai_compatible',
			model: 'qwen2.5',
			baseUrl: ctx.emulator.urls.openai,
			inputPrice: 2,
			outputPrice: 4,
		});
	});
});

/** Shaped like an OpenAI key, so that a leak into a message would show. */
const WRONG_KEY = ['sk-proj', 'WRONGKEY', '0123456789'].join('-');

describe('the model picker', () => {
	const list = (tier: Record<string, unknown>, selected = credentials(), filter?: string) =>
		listModels.call(pickerContext(tier, selected), filter);
	const ids = (result: INodeListSearchResult) => result.results.map((r) => r.value);

	it("lists each provider's models from its own list endpoint, with the selected credential", async () => {
		const { ollama, ...keyed } = KEYS;
		void ollama; // a local Ollama takes no key
		ctx.emulator.loadScenario({ apiKeys: keyed });
		for (const provider of PROVIDERS) {
			if (provider.id === 'openai_compatible') continue;
			const result = await list({ provider: provider.id });
			const expected = PROVIDERS.filter((p) => p.wire === provider.wire)
				.flatMap((p) => p.models)
				.filter((m, i, all) => all.indexOf(m) === i)
				.sort();
			assert.deepEqual(ids(result), expected, provider.id);
		}
	});

	it('an OpenAI-compatible tier lists from its own base URL, with no credential', async () => {
		ctx.emulator.loadScenario({ apiKeys: {} });
		const result = await list(
			{ provider: 'openai_compatible', tierOptions: { baseUrl: ctx.emulator.urls.openai } },
			{},
		);
		assert.ok(ids(result).includes('llama3.2'), JSON.stringify(ids(result)));
	});

	it('the search box filters the list', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS });
		assert.deepEqual(ids(await list({ provider: 'anthropic' }, credentials(), 'SONNET')), [
			'claude-sonnet-4-5',
		]);
	});

	it('a rejected key says so, names the provider and points to By ID, without the key', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS });
		const wrong = {
			...credentials(),
			resilientLlmOpenAiApi: {
				apiKey: WRONG_KEY,
				baseUrl: ctx.emulator.urls.openai,
			},
		};
		await assert.rejects(list({ provider: 'openai' }, wrong), (error: Error) => {
			assert.match(error.message, /^Could not list OpenAI models \(HTTP 401: .*\)\. Choose By ID/);
			assert.doesNotMatch(error.message, /WRONGKEY/);
			return true;
		});
	});

	it('a missing credential or provider is named', async () => {
		await assert.rejects(
			list({ provider: 'gemini' }, {}),
			/^NodeOperationError: Select a "Resilient LLM: Google Gemini API" credential on this node to list Google Gemini models, or choose By ID/,
		);
		await assert.rejects(list({}), /Choose the tier's Provider first/);
	});
});

describe('routing and output', () => {
	it('JSON output is parsed into the item, and checked against the schema', async () => {
		ctx.emulator.loadScenario({
			apiKeys: KEYS,
			rules: [{ provider: 'anthropic', reply: '{"decision": "deny", "reason": "late"}' }],
		});
		const schema = JSON.stringify({
			type: 'object',
			required: ['decision'],
			properties: { decision: { enum: ['approve', 'deny'] } },
		});
		const { outputs } = await execute({
			items: [{ text: 'Refund?' }],
			parameters: { outputFormat: 'json', jsonSchema: schema },
		});
		assert.deepEqual(outputs[0][0].json.output, { decision: 'deny', reason: 'late' });
	});

	it('Needs Human items carry the prompt, the reason and the attempts', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS, rules: [{ fault: 'auth' }] });
		const { outputs } = await execute({
			items: [{ text: 'Summarise.', ticket: 'T-5' }],
			parameters: { systemPrompt: 'Be brief.' },
		});
		assert.equal(outputs[0].length, 0);
		const item = outputs[1][0].json;
		assert.equal(item.prompt, 'Summarise.');
		assert.equal(item.systemPrompt, 'Be brief.');
		assert.equal(item.ticket, 'T-5');
		assert.match(String(item.reason), /auth \(401\)/);
		assert.equal(
			(resilience(outputs[1][0]).attempts as unknown[]).length,
			2,
			'auth is not retried: one try per tier',
		);
	});

	it('keeps item order and pairing with concurrency', async () => {
		ctx.emulator.loadScenario({
			apiKeys: KEYS,
			rules: [{ provider: 'anthropic', latencyMs: 100 }],
		});
		const items = Array.from({ length: 20 }, (_, i) => ({ text: `Task ${i}`, n: i }));
		const { outputs } = await execute({ items, parameters: { options: { concurrency: 10 } } });
		assert.deepEqual(
			outputs[0].map((i) => i.json.n),
			items.map((i) => i.n),
		);
		assert.deepEqual(
			outputs[0].map((i) => i.pairedItem),
			items.map((_, i) => ({ item: i })),
		);
	});

	it('has exactly Concurrency calls open at once, never more', async () => {
		// Every call hangs, so no slot frees up until the execution is cancelled.
		ctx.emulator.loadScenario({ apiKeys: KEYS, rules: [{ fault: 'hang' }] });
		ctx.emulator.resetCounts();
		const cancel = new AbortController();
		const items = Array.from({ length: 20 }, (_, i) => ({ text: `Task ${i}` }));
		const running = fakeExecute({
			items,
			parameters: {
				prompt: (i: number) => items[i].text,
				chain: CHAIN,
				// Off: with it on, a circuit's first call goes alone, and this counts slots.
				options: { concurrency: 10, circuitBreaker: false },
			},
			credentials: credentials(),
			signal: cancel.signal,
		});
		const done = new ResilientLlm().execute.call(running.context);
		await until(() => ctx.emulator.stats().total >= 10, 'ten calls open');
		cancel.abort();
		await done;
		assert.equal(ctx.emulator.stats().maxInFlight, 10);
		assert.equal(ctx.emulator.stats().total, 10, 'the other ten items never called');
	});

	it('logs one structured line per task, without secrets', async () => {
		ctx.emulator.loadScenario({
			apiKeys: KEYS,
			rules: [{ provider: 'anthropic', fault: 'overloaded' }],
		});
		const { outputs, logs } = await execute({ items: [{ text: 'a' }, { text: 'b' }] });
		const tasks = logs.filter((l) => l.message === 'Resilient LLM task');
		assert.equal(tasks.length, 2);
		const meta = tasks[0].meta as Record<string, unknown>;
		assert.equal(meta.outcome, 'answered');
		assert.equal(meta.tier, 2);
		assert.equal(meta.executionId, 'exec-1');
		assert.deepEqual(meta.failures, [
			{ tier: 1, class: 'overloaded', status: 529 },
			{ tier: 1, class: 'overloaded', status: 529 },
		]);
		const text = JSON.stringify({ logs, outputs });
		for (const key of Object.values(KEYS))
			assert.ok(!text.includes(key), 'no API key in logs or items');
	});
});

describe('drills', () => {
	it('"primary down" fails tier 1 without calling it and marks the items', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS });
		ctx.emulator.resetCounts();
		const { outputs } = await execute({
			items: [{ text: 'hi' }],
			parameters: { options: { drill: 'primary_down', initialBackoffMs: 5 } },
		});
		const r = resilience(outputs[0][0]);
		assert.equal(r.drill, 'primary_down');
		assert.equal(r.tier, 2);
		assert.equal(ctx.emulator.count('anthropic'), 0, 'the drilled provider was not called');
		assert.equal(ctx.emulator.count('openai'), 1);
		assert.match(
			String((r.attempts as Array<{ message: string }>)[0].message),
			/^drill: simulated overloaded \(529\), provider not called/,
		);
	});

	it('"all providers down" sends items to Needs Human without any call', async () => {
		ctx.emulator.resetCounts();
		const { outputs } = await execute({
			items: [{ text: 'hi' }],
			parameters: { options: { drill: 'all_down', initialBackoffMs: 5 } },
		});
		assert.equal(outputs[1].length, 1);
		assert.equal(resilience(outputs[1][0]).drill, 'all_down');
		assert.equal(ctx.emulator.stats().total, 0);
	});

	it('"rate limited" answers 429 on tier 1, retried, then fails over', async () => {
		const { outputs } = await execute({
			items: [{ text: 'hi' }],
			parameters: { options: { drill: 'rate_limited', initialBackoffMs: 5 } },
		});
		const attempts = resilience(outputs[0][0]).attempts as Array<{
			errorClass?: string;
			httpStatus: number;
		}>;
		assert.deepEqual(
			attempts.map((a) => [a.errorClass ?? 'ok', a.httpStatus]),
			[
				['rate_limited', 429],
				['rate_limited', 429],
				['ok', 200],
			],
		);
	});
});
