/**
 * Resilient Chat Model's conversions between n8n's AI node SDK and the engine, in process:
 * first the pure functions, then through the pinned n8n's own SDK and LangChain (the adapter
 * n8n wraps every SDK chat model in), as the AI Agent calls it: tools bound, a conversation
 * with a tool call and its result, an answer of tool calls.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import type { IDataObject, ISupplyDataFunctions } from 'n8n-workflow';

import type { FunctionTool, Message } from '@n8n/ai-node-sdk';

import type { Task, TaskResult } from '../../lib/engine/types';
import { ChainChatModel, toGenerateResult } from '../../nodes/ResilientChatModel/chainChatModel';
import { toChatMessages } from '../../nodes/ResilientChatModel/chatMessages';
import { isZodSchema, toToolDefinitions } from '../../nodes/ResilientChatModel/toolDefinitions';
import { loadN8nAiModules } from '../../nodes/ResilientChatModel/n8nModules';
import type { ChatModelDependencies } from '../../nodes/ResilientChatModel/chainChatModel';
import { ResilientChatModel } from '../../nodes/ResilientChatModel/ResilientChatModel.node.ts';
import { keepImageParts } from '../../nodes/ResilientChatModel/langchainParts';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import { flushCounters } from '../../nodes/shared/alertCounters';
import { closeStateStores } from '../../nodes/shared/stateStores';
import { ensureRuntime, n8nEntry } from '../harness/runtime';
import { KEYS, MODELS, useEmulator } from '../support/emulator';
import { fakeExecute } from '../support/fakeExecute';

const invalid = (message: string) => new Error(message);

/** A 1×1 PNG. */
const PNG =
	'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';
const asJsonSchema = (tool: FunctionTool) => tool.inputSchema as Record<string, unknown>;

const LOOKUP_SCHEMA = {
	$schema: 'http://json-schema.org/draft-07/schema#',
	type: 'object',
	properties: { orderId: { type: 'string' } },
	required: ['orderId'],
};

function answered(overrides: Partial<TaskResult> = {}): TaskResult {
	return {
		outcome: 'answered',
		reasonText: 'Answered by tier 2 (openai/gpt-4o-mini) after tier 1 failed.',
		text: '',
		tier: 2,
		provider: 'openai',
		model: 'gpt-4o-mini',
		attempts: [],
		tiers: [],
		latencyMs: 12,
		usage: { inputTokens: 30, outputTokens: 7 },
		costUsd: 0.00001,
		priceTableVersion: 'test',
		...overrides,
	};
}

/** A model whose engine is a recorder: the tasks it got, and the answers it gives in order. */
function recordingModel(answers: TaskResult[], extra: Partial<ChatModelDependencies> = {}) {
	const tasks: Task[] = [];
	const results: TaskResult[] = [];
	const model = new ChainChatModel({
		modelId: 'claude-haiku-4-5 → gpt-4o-mini',
		run: async (task) => {
			tasks.push(structuredClone(task));
			const next = answers.shift();
			assert.ok(next, 'no more scripted answers');
			return next;
		},
		toJsonSchema: asJsonSchema,
		invalid,
		failure: (result) => new Error(result.reasonText),
		onResult: (result) => {
			results.push(result);
		},
		...extra,
	});
	return { model, tasks, results };
}

describe('Resilient Chat Model: conversions', () => {
	it('turns an agent conversation into the engine messages, naming each tool result after its call', () => {
		const messages: Message[] = [
			{ role: 'system', content: [{ type: 'text', text: 'You are a support agent.' }] },
			{ role: 'user', content: [{ type: 'text', text: 'Where is order 42?' }] },
			{
				role: 'assistant',
				content: [
					{ type: 'text', text: 'Let me look.' },
					{
						type: 'tool-call',
						toolCallId: 'call_a',
						toolName: 'order_lookup',
						input: '{"orderId":"42"}',
					},
				],
			},
			{
				role: 'tool',
				content: [{ type: 'tool-result', toolCallId: 'call_a', result: { status: 'shipped' } }],
			},
		];
		assert.deepEqual(toChatMessages(messages, invalid), [
			{ role: 'system', content: 'You are a support agent.' },
			{ role: 'user', content: 'Where is order 42?' },
			{
				role: 'assistant',
				content: 'Let me look.',
				toolCalls: [{ id: 'call_a', name: 'order_lookup', arguments: { orderId: '42' } }],
			},
			{ role: 'tool', toolCallId: 'call_a', name: 'order_lookup', content: '{"status":"shipped"}' },
		]);
	});

	it('refuses tool arguments that are not a JSON object, and a result that answers no call', () => {
		const call = (input: string): Message[] => [
			{
				role: 'assistant',
				content: [{ type: 'tool-call', toolCallId: 'c1', toolName: 'refund', input }],
			},
		];
		assert.throws(() => toChatMessages(call('{oops'), invalid), /tool "refund".*not JSON/);
		assert.throws(() => toChatMessages(call('[1]'), invalid), /tool "refund".*not an object/);
		assert.throws(
			() =>
				toChatMessages(
					[{ role: 'tool', content: [{ type: 'tool-result', toolCallId: 'nope', result: 'x' }] }],
					invalid,
				),
			/call id "nope".*no tool call/,
		);
	});

	it('sends the images of a user message with it, whether given as base64, bytes or a data URL', () => {
		const messages: Message[] = [
			{
				role: 'user',
				content: [
					{ type: 'text', text: 'What is the total?' },
					{ type: 'file', mediaType: 'image/png', data: PNG },
					{ type: 'file', mediaType: 'image/jpeg', data: Buffer.from(PNG, 'base64') },
					{ type: 'file', data: `data:image/webp;base64,${PNG}` },
					{
						type: 'file',
						mediaType: 'image/gif',
						data: '',
						providerMetadata: { url: `data:image/gif;base64,${PNG}` },
					},
				],
			},
		];
		assert.deepEqual(toChatMessages(messages, invalid), [
			{
				role: 'user',
				content: 'What is the total?',
				images: [
					{ mediaType: 'image/png', data: PNG },
					{ mediaType: 'image/jpeg', data: PNG },
					{ mediaType: 'image/webp', data: PNG },
					{ mediaType: 'image/gif', data: PNG },
				],
			},
		]);
	});

	it('refuses, naming the message and the part, a file, an image by web address, an image of another type and an image outside a user message', () => {
		const user = (part: Message['content'][number]): Message[] => [
			{ role: 'system', content: [{ type: 'text', text: 'You read receipts.' }] },
			{ role: 'user', content: [{ type: 'text', text: 'Read this.' }, part] },
		];
		assert.throws(
			() =>
				toChatMessages(
					user({ type: 'file', mediaType: 'application/pdf', data: 'JVBERi0xLjQ=' }),
					invalid,
				),
			/^Error: message 1 \(user\) has a file part \(application\/pdf\), which the chain cannot send/,
		);
		assert.throws(
			() => toChatMessages(user({ type: 'file', data: 'JVBERi0xLjQ=' }), invalid),
			/^Error: message 1 \(user\) has a file part, which the chain cannot send/,
		);
		assert.throws(
			() =>
				toChatMessages(
					user({
						type: 'file',
						mediaType: 'image/png',
						data: '',
						providerMetadata: { url: 'https://example.com/receipt.png' },
					}),
					invalid,
				),
			/^Error: message 1 \(user\) has an image part \(image\/png\) given by its web address/,
		);
		assert.throws(
			() => toChatMessages(user({ type: 'file', mediaType: 'image/tiff', data: PNG }), invalid),
			/^Error: message 1 \(user\) has an image part of type image\/tiff/,
		);
		assert.throws(
			() =>
				toChatMessages(
					[{ role: 'assistant', content: [{ type: 'file', mediaType: 'image/png', data: PNG }] }],
					invalid,
				),
			/^Error: message 0 \(assistant\) has an image part \(image\/png\); only a user message can carry images/,
		);
	});

	it('passes function tools as JSON Schema without $schema, and refuses provider built-in tools', () => {
		const tools = toToolDefinitions(
			[
				{
					type: 'function',
					name: 'order_lookup',
					description: 'Find an order',
					inputSchema: LOOKUP_SCHEMA,
				},
			],
			asJsonSchema,
			invalid,
		);
		assert.deepEqual(tools, [
			{
				name: 'order_lookup',
				description: 'Find an order',
				parameters: {
					type: 'object',
					properties: { orderId: { type: 'string' } },
					required: ['orderId'],
				},
			},
		]);
		assert.throws(
			() => toToolDefinitions([{ type: 'provider', name: 'web_search' }], asJsonSchema, invalid),
			/"web_search" is a provider's built-in tool/,
		);
	});

	it('answers tool calls as tool-call blocks with finish reason tool-calls, and text as text', () => {
		const calls = toGenerateResult(
			answered({ toolCalls: [{ id: 't1', name: 'refund', arguments: { orderId: '42' } }] }),
		);
		assert.equal(calls.finishReason, 'tool-calls');
		assert.deepEqual(calls.message.content, [
			{ type: 'tool-call', toolCallId: 't1', toolName: 'refund', input: '{"orderId":"42"}' },
		]);
		assert.deepEqual(calls.usage, { promptTokens: 30, completionTokens: 7, totalTokens: 37 });
		const text = toGenerateResult(answered({ text: 'Refund requested.' }));
		assert.equal(text.finishReason, 'stop');
		assert.deepEqual(text.message.content, [{ type: 'text', text: 'Refund requested.' }]);
	});

	it('sends bound tools with every call, reports each result, and throws the plain reason when no tier answered', async () => {
		const reason =
			'Every model in the chain failed; tier 1 anthropic/claude-haiku-4-5: overloaded (529) after 3 tries';
		const { model, tasks, results } = recordingModel([
			answered({ text: 'Hello.' }),
			{ ...answered(), outcome: 'needs_human', reason: 'all_tiers_failed', reasonText: reason },
		]);
		const bound = model.withTools([
			{ type: 'function', name: 'order_lookup', inputSchema: LOOKUP_SCHEMA },
		]);
		const user: Message[] = [{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }];
		await bound.generate(user);
		await assert.rejects(bound.generate(user), (error: Error) => error.message === reason);
		assert.deepEqual(
			tasks.map((t) => t.tools?.map((tool) => tool.name)),
			[['order_lookup'], ['order_lookup']],
		);
		assert.equal(results.length, 2, 'both calls reported, the failed one included');
		// The unbound model is unchanged.
		assert.equal((model as unknown as { tools: unknown[] }).tools.length, 0);
	});
});

describe('Resilient Chat Model through the pinned n8n AI node SDK and LangChain', () => {
	const runtime = createRequire(join(ensureRuntime(), 'node_modules', 'noop.js'));
	const sdk = runtime('@n8n/ai-node-sdk') as typeof import('@n8n/ai-node-sdk');
	const lc = runtime('@langchain/core/messages') as {
		SystemMessage: new (text: string) => unknown;
		HumanMessage: new (fields: string | Record<string, unknown>) => unknown;
		AIMessage: new (fields: Record<string, unknown>) => unknown;
		ToolMessage: new (fields: Record<string, unknown>) => unknown;
	};
	const { DynamicStructuredTool } = runtime('@langchain/core/tools') as {
		DynamicStructuredTool: new (fields: Record<string, unknown>) => unknown;
	};
	const { z } = runtime('zod') as { z: typeof import('zod').z };

	/** What n8n's tracing writes to the sub-node's panel. */
	function panelContext() {
		const inputs: unknown[] = [];
		const outputs: unknown[] = [];
		const ctx = {
			getNode: () => ({ name: 'Resilient Chat Model', type: 'x', typeVersion: 1, parameters: {} }),
			getNextRunIndex: () => inputs.length,
			addInputData: (_type: string, data: unknown) => {
				inputs.push(data);
				return { index: inputs.length - 1 };
			},
			addOutputData: (_type: string, _index: number, data: unknown) => {
				outputs.push(data);
			},
			logger: { debug() {}, info() {}, warn() {}, error() {} },
			getExecutionId: () => '1',
			getWorkflow: () => ({ id: 'w' }),
		};
		return { ctx, inputs, outputs };
	}

	describe('a tool whose Zod schema comes from another copy of zod than the SDK’s', () => {
		// n8n's SDK found the way the node finds it in n8n, with its zod-to-json-schema.
		const n8n = loadN8nAiModules({ mainFilename: n8nEntry() });
		// Copies of zod in this checkout, not the runtime's: the SDK's `instanceof` misses them.
		const zod3 = (createRequire(__filename)('zod') as typeof import('zod')).z;
		const zod4 = (createRequire(require.resolve('@langchain/core'))('zod') as typeof import('zod'))
			.z;
		const lookup = (inputSchema: unknown): FunctionTool => ({
			type: 'function',
			name: 'order_lookup',
			inputSchema,
		});

		it('the SDK hands a Zod 3 schema back unconverted; the tool still goes out as JSON Schema', () => {
			const tool = lookup(zod3.object({ orderId: zod3.string() }));
			assert.ok(n8n.sdkPath.startsWith(ensureRuntime()), n8n.sdkPath);
			assert.ok(isZodSchema(n8n.sdk.getParametersJsonSchema(tool)), 'the SDK left it as Zod');
			const [definition] = toToolDefinitions(
				[tool],
				n8n.sdk.getParametersJsonSchema,
				invalid,
				n8n.zodToJsonSchema,
			);
			assert.deepEqual(definition.parameters, {
				type: 'object',
				properties: { orderId: { type: 'string' } },
				required: ['orderId'],
				additionalProperties: false,
			});
		});

		it('a Zod 4 schema converts itself', () => {
			const [definition] = toToolDefinitions(
				[lookup(zod4.object({ orderId: zod4.string() }))],
				n8n.sdk.getParametersJsonSchema,
				invalid,
				n8n.zodToJsonSchema,
			);
			const text = JSON.stringify(definition.parameters);
			assert.ok(!/"_def"|"def"|"~standard"|"_zod"/.test(text), text);
			assert.equal(definition.parameters.type, 'object');
			assert.deepEqual(definition.parameters.properties, { orderId: { type: 'string' } });
			assert.deepEqual(definition.parameters.required, ['orderId']);
		});

		it('without a converter, the tool is refused by name instead of sent', () => {
			assert.throws(
				() =>
					toToolDefinitions(
						[lookup(zod3.object({ orderId: zod3.string() }))],
						n8n.sdk.getParametersJsonSchema,
						invalid,
					),
				/the input schema of tool "order_lookup" is a Zod schema that could not be converted to JSON Schema/,
			);
			assert.throws(
				() => toToolDefinitions([lookup({ type: 'string' })], asJsonSchema, invalid),
				/the input schema of tool "order_lookup" is not a JSON Schema object/,
			);
		});
	});

	it('an agent turn: tools bound by LangChain, the conversation so far, and tool calls back as LangChain tool_calls', async () => {
		const { model, tasks } = recordingModel(
			[
				answered({
					toolCalls: [
						{ id: 'toolu_2', name: 'refund_request', arguments: { orderId: '42', reason: 'late' } },
					],
				}),
			],
			{ toJsonSchema: sdk.getParametersJsonSchema },
		);
		const { ctx, inputs, outputs } = panelContext();
		const supplied = sdk.supplyModel(ctx as never, model) as {
			response: { bindTools(tools: unknown[]): { invoke(messages: unknown[]): Promise<unknown> } };
		};
		const tool = (name: string, schema: unknown) =>
			new DynamicStructuredTool({
				name,
				description: `the ${name} tool`,
				schema,
				func: async () => 'ok',
			});
		const agentModel = supplied.response.bindTools([
			tool('order_lookup', z.object({ orderId: z.string() })),
			tool('refund_request', z.object({ orderId: z.string(), reason: z.string() })),
		]);
		const reply = (await agentModel.invoke([
			new lc.SystemMessage('You are a support agent.'),
			new lc.HumanMessage('Order 42 is late, refund it.'),
			new lc.AIMessage({
				content: '',
				tool_calls: [
					{ id: 'toolu_1', name: 'order_lookup', args: { orderId: '42' }, type: 'tool_call' },
				],
			}),
			new lc.ToolMessage({ content: '{"status":"late"}', tool_call_id: 'toolu_1' }),
		])) as { tool_calls?: Array<{ id: string; name: string; args: unknown }> };

		assert.deepEqual(
			reply.tool_calls?.map((c) => ({ id: c.id, name: c.name, args: c.args })),
			[{ id: 'toolu_2', name: 'refund_request', args: { orderId: '42', reason: 'late' } }],
		);
		const task = tasks[0];
		assert.deepEqual(task.messages, [
			{ role: 'system', content: 'You are a support agent.' },
			{ role: 'user', content: 'Order 42 is late, refund it.' },
			{
				role: 'assistant',
				content: '',
				toolCalls: [{ id: 'toolu_1', name: 'order_lookup', arguments: { orderId: '42' } }],
			},
			{ role: 'tool', toolCallId: 'toolu_1', name: 'order_lookup', content: '{"status":"late"}' },
		]);
		assert.deepEqual(
			task.tools?.map((t) => [t.name, t.parameters.required]),
			[
				['order_lookup', ['orderId']],
				['refund_request', ['orderId', 'reason']],
			],
		);
		assert.ok(!('$schema' in (task.tools?.[0].parameters ?? {})));
		assert.equal(inputs.length, 1, 'the call is in the panel input');
		assert.equal(outputs.length, 1, 'and in the panel output');
	});
	it('streamed, several tool calls of one model turn come out as separate calls, each with its id', async () => {
		const { model } = recordingModel(
			[
				answered({
					text: 'Looking up both.',
					toolCalls: [
						{ id: 'toolu_a', name: 'order_lookup', arguments: { orderId: '42' } },
						{ id: 'toolu_b', name: 'order_lookup', arguments: { orderId: '43' } },
					],
				}),
			],
			{ toJsonSchema: sdk.getParametersJsonSchema },
		);
		const { ctx } = panelContext();
		const supplied = sdk.supplyModel(ctx as never, model) as {
			response: {
				bindTools(tools: unknown[]): {
					stream(messages: unknown[]): Promise<AsyncIterable<MessageChunk>>;
				};
			};
		};
		interface MessageChunk {
			concat(other: MessageChunk): MessageChunk;
			text: string;
			tool_calls?: Array<{ id?: string; name: string; args: unknown }>;
		}
		const lookup = new DynamicStructuredTool({
			name: 'order_lookup',
			description: 'Find an order',
			schema: z.object({ orderId: z.string() }),
			func: async () => 'ok',
		});
		let joined: MessageChunk | undefined;
		for await (const chunk of await supplied.response
			.bindTools([lookup])
			.stream([new lc.HumanMessage('Where are orders 42 and 43?')])) {
			joined = joined ? joined.concat(chunk) : chunk;
		}
		assert.equal(joined?.text, 'Looking up both.');
		assert.deepEqual(
			joined?.tool_calls?.map((c) => ({ id: c.id, name: c.name, args: c.args })),
			[
				{ id: 'toolu_a', name: 'order_lookup', args: { orderId: '42' } },
				{ id: 'toolu_b', name: 'order_lookup', args: { orderId: '43' } },
			],
		);
	});

	it("the agent's images reach the chain: image_url parts, standard and older image parts; a PDF is refused by message", async () => {
		const { model, tasks } = recordingModel([answered({ text: 'The total is 12.' })], {
			toJsonSchema: sdk.getParametersJsonSchema,
		});
		const { ctx } = panelContext();
		const supplied = sdk.supplyModel(ctx as never, model) as {
			response: { bindTools(tools: unknown[]): { invoke(messages: unknown[]): Promise<unknown> } };
		};
		// As the node's supply function does with the SDK's adapter.
		keepImageParts(supplied.response);
		const lookup = new DynamicStructuredTool({
			name: 'order_lookup',
			description: 'Find an order',
			schema: z.object({ orderId: z.string() }),
			func: async () => 'ok',
		});
		const agentModel = supplied.response.bindTools([lookup]);
		// As n8n's AI Agent passes binary images through, and as LangChain's own parts put them.
		await agentModel.invoke([
			new lc.SystemMessage('You read receipts.'),
			new lc.HumanMessage({
				content: [
					{ type: 'text', text: 'What is the total?' },
					{ type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
					{ type: 'image', mimeType: 'image/jpeg', data: PNG },
					{ type: 'image', source_type: 'base64', mime_type: 'image/webp', data: PNG },
				],
			}),
		]);
		assert.deepEqual(tasks[0].messages?.[1], {
			role: 'user',
			content: 'What is the total?',
			images: [
				{ mediaType: 'image/png', data: PNG },
				{ mediaType: 'image/jpeg', data: PNG },
				{ mediaType: 'image/webp', data: PNG },
			],
		});
		await assert.rejects(
			agentModel.invoke([
				new lc.SystemMessage('You read receipts.'),
				new lc.HumanMessage({
					content: [
						{ type: 'text', text: 'Sum this up.' },
						{
							type: 'file',
							source_type: 'base64',
							mime_type: 'application/pdf',
							data: 'JVBERi0xLjQ=',
							metadata: { filename: 'receipt.pdf' },
						},
					],
				}),
			]),
			/message 1 \(user\) has a file part \(application\/pdf\), which the chain cannot send/,
		);
		assert.equal(tasks.length, 1, 'nothing was sent for the refused conversation');
	});
});

describe('Resilient Chat Model node, its supply function in process', () => {
	const { emulator } = useEmulator();
	// What n8n does when it loads nodes: its own modules on NODE_PATH, where the SDK is found.
	const runtimeModules = join(ensureRuntime(), 'node_modules');
	process.env.NODE_PATH = [runtimeModules, process.env.NODE_PATH].filter(Boolean).join(':');
	(Module as unknown as { _initPaths(): void })._initPaths();
	const runtime = createRequire(join(runtimeModules, 'noop.js'));
	const lc = runtime('@langchain/core/messages') as {
		HumanMessage: new (fields: string | Record<string, unknown>) => unknown;
	};

	after(closeStateStores);

	/** One agent-style call through the supplied model, Anthropic down, OpenAI up. */
	async function callOnce(
		options: IDataObject,
		messages: unknown[] = [new lc.HumanMessage('Say hello.')],
	) {
		emulator.loadScenario({
			apiKeys: KEYS,
			rules: [{ provider: 'anthropic', fault: 'overloaded' }],
		});
		const storagePath = mkdtempSync(join(tmpdir(), 'chat-model-store-'));
		const tier = (provider: 'anthropic' | 'openai') => ({
			provider,
			model: MODELS[provider],
			attempts: 2,
			timeoutSeconds: 5,
		});
		const { context, logs } = fakeExecute({
			items: [{}],
			storagePath,
			parameters: {
				chain: { tiers: [tier('anthropic'), tier('openai')] },
				criticality: 'standard',
				options: { initialBackoffMs: 5, ...options },
			},
			credentials: {
				resilientLlmAnthropicApi: { apiKey: KEYS.anthropic, baseUrl: emulator.urls.anthropic },
				resilientLlmOpenAiApi: { apiKey: KEYS.openai, baseUrl: emulator.urls.openai },
			},
		});
		const inputs: unknown[] = [];
		const outputs: unknown[] = [];
		Object.assign(context, {
			getNextRunIndex: () => inputs.length,
			addInputData: (_type: string, data: unknown) => {
				inputs.push(data);
				return { index: inputs.length - 1 };
			},
			addOutputData: (_type: string, _index: number, data: unknown) => {
				outputs.push(data);
			},
			logAiEvent: () => undefined,
		});
		const started = Date.now();
		const supplied = (await new ResilientChatModel().supplyData.call(
			context as unknown as ISupplyDataFunctions,
			0,
		)) as { response: { invoke(messages: unknown[]): Promise<{ text: string }> } };
		emulator.resetCounts();
		const reply = await supplied.response.invoke(messages);
		assert.equal(reply.text, `Emulated answer from openai/${MODELS.openai}.`);
		// Alert counters are written once a second; written now, for the assertions.
		await flushCounters();
		const counted = async () => {
			const reader = new SqliteStateStore(join(storagePath, 'state.sqlite'));
			try {
				return (await reader.readCounters(started - 60_000, Date.now() + 60_000)).get('wf-1');
			} finally {
				await reader.close();
			}
		};
		return { inputs, outputs, logs, counted };
	}

	it('each call: in the panel with tier, attempts, latency, tokens and cost; one log line; counted for alerts', async () => {
		const { inputs, outputs, logs, counted } = await callOnce({
			circuitBreaker: false,
			recordMetrics: true,
		});

		const panel = outputs as Array<
			Array<Array<{ json: { resilience?: Record<string, unknown> } }>>
		>;
		assert.equal(inputs.length, 1);
		const summary = panel[0]?.[0]?.[0]?.json.resilience;
		assert.ok(summary, JSON.stringify(outputs));
		assert.equal(summary.tier, 2);
		assert.equal(summary.provider, 'openai');
		assert.deepEqual(
			(summary.attempts as Array<{ tier: number; status: string; httpStatus?: number }>).map(
				(a) => [a.tier, a.status, a.httpStatus],
			),
			[
				[1, 'failed', 529],
				[1, 'failed', 529],
				[2, 'ok', 200],
			],
		);
		assert.ok(Number(summary.costUsd) > 0 && Number(summary.latencyMs) >= 0);
		assert.ok((summary.usage as { inputTokens: number }).inputTokens > 0);

		const lines = logs.filter((l) => l.message === 'Resilient Chat Model call');
		assert.equal(lines.length, 1);
		assert.deepEqual(
			(({ tier, provider, outcome }) => ({ tier, provider, outcome }))(
				lines[0].meta as Record<string, unknown>,
			),
			{ tier: 2, provider: 'openai', outcome: 'answered' },
		);

		const counters = await counted();
		assert.deepEqual(
			[counters?.tasks, counters?.answeredByTier, counters?.escalated],
			[1, [0, 1, 0, 0], 0],
		);
	});

	it("an AI Agent's image reaches each tier in its provider's shape, the failover included", async () => {
		await callOnce({ circuitBreaker: false, recordMetrics: false }, [
			new lc.HumanMessage({
				content: [
					{ type: 'text', text: 'What is the total?' },
					{ type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
				],
			}),
		]);
		const userTurns = (provider: 'anthropic' | 'openai') =>
			emulator
				.received(provider)
				.map((call) => (call.body as { messages: unknown[] }).messages.at(-1));
		const anthropicTurn = {
			role: 'user',
			content: [
				{ type: 'text', text: 'What is the total?' },
				{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
			],
		};
		assert.deepEqual(userTurns('anthropic'), [anthropicTurn, anthropicTurn]);
		assert.deepEqual(userTurns('openai'), [
			{
				role: 'user',
				content: [
					{ type: 'text', text: 'What is the total?' },
					{ type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
				],
			},
		]);
	});

	it('a Circuit Breaker option that is not a number stops the node, naming the option', async () => {
		const { context } = fakeExecute({
			items: [{}],
			parameters: {
				chain: { tiers: [{ provider: 'openai', model: MODELS.openai }] },
				options: { circuitBreaker: true, breakerThreshold: 'five' },
			},
			credentials: {
				resilientLlmOpenAiApi: { apiKey: KEYS.openai, baseUrl: emulator.urls.openai },
			},
		});
		await assert.rejects(
			new ResilientChatModel().supplyData.call(context as unknown as ISupplyDataFunctions, 0),
			(error: Error) => {
				assert.equal(
					error.message,
					'Options › Circuit Breaker Threshold must be a number of at least 1, got "five"',
				);
				return true;
			},
		);
	});

	it('Record Metrics for Alerts off: the call is not counted, though the circuit breaker uses the store', async () => {
		const { counted } = await callOnce({ circuitBreaker: true, recordMetrics: false });
		assert.equal(await counted(), undefined);
	});
});
