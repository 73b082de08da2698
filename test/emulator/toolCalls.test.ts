/**
 * Tool calls on the wire: each adapter, through its real SDK, sends tool definitions, tool
 * calls and tool results in its provider's shape (asserted on what the emulator received),
 * and reads the emulator's scripted tool calls back. The scenario's turns and rule filters.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ScenarioError, parseScenario } from '../../lib/emulator/scenario';
import { ScenarioState } from '../../lib/emulator/scenarioState';
import type { ConversationShape, Scenario } from '../../lib/emulator/scenario';
import type { WireProvider } from '../../lib/emulator/wire';
import { createAdapter } from '../../lib/providers';
import type {
	ChatMessage,
	CompletionRequest,
	CompletionResponse,
	ToolDefinition,
} from '../../lib/providers/types';
import { KEYS, MODELS, WIRE_PROVIDERS, useEmulator } from '../support/emulator';

const ctx = useEmulator();

const TOOLS: ToolDefinition[] = [
	{
		name: 'lookup_order',
		description: 'Finds an order by its id.',
		parameters: {
			type: 'object',
			properties: { orderId: { type: 'string', description: 'Like A-1001' } },
			required: ['orderId'],
		},
	},
	{
		name: 'request_refund',
		description: 'Asks for a refund of an order.',
		parameters: {
			type: 'object',
			properties: { orderId: { type: 'string' }, reason: { type: 'string' } },
			required: ['orderId'],
		},
	},
];

const LOOKUP = { name: 'lookup_order', arguments: { orderId: 'A-1001' } };
const REFUND = { name: 'request_refund', arguments: { orderId: 'A-1001', reason: 'damaged' } };

/** Mid-run: the model said something and called two tools at once; both results are back. */
const CONVERSATION: ChatMessage[] = [
	{ role: 'system', content: 'You are a support agent.' },
	{ role: 'user', content: 'Order A-1001 arrived broken.' },
	{
		role: 'assistant',
		content: 'Let me look that up.',
		toolCalls: [
			{ id: 'call_a', ...LOOKUP },
			{ id: 'call_b', name: 'lookup_order', arguments: { orderId: 'A-1002' } },
		],
	},
	{ role: 'tool', toolCallId: 'call_a', name: 'lookup_order', content: '{"status":"delivered"}' },
	{ role: 'tool', toolCallId: 'call_b', name: 'lookup_order', content: 'not found' },
];

const SCRIPT: Scenario = {
	turns: [
		{ toolCalls: [LOOKUP] },
		{ reply: 'I will ask for a refund.', toolCalls: [REFUND] },
		{ reply: 'Your refund is on its way.' },
	],
};

function complete(
	provider: WireProvider,
	request: Partial<CompletionRequest>,
): Promise<CompletionResponse> {
	const adapter = createAdapter(provider, {
		apiKey: KEYS[provider],
		baseUrl: ctx.emulator.urls[provider],
		timeoutMs: 10_000,
	});
	return adapter.complete(
		{ model: MODELS[provider], messages: [], maxOutputTokens: 256, ...request },
		{ signal: AbortSignal.timeout(10_000), timeoutMs: 10_000 },
	);
}

/** The body of the single model call the emulator received for this provider. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- wire bodies of four providers, read field by field
function receivedBody(provider: WireProvider): any {
	const calls = ctx.emulator.received(provider);
	assert.equal(calls.length, 1, `one call to ${provider}`);
	return calls[0].body;
}

/** Each provider's own shape of CONVERSATION and TOOLS: what its API documents. */
const WIRE_SHAPES: Record<WireProvider, (body: Record<string, unknown>) => void> = {
	anthropic(body) {
		assert.equal(body.system, 'You are a support agent.');
		assert.deepEqual(body.tools, [
			{
				name: 'lookup_order',
				description: 'Finds an order by its id.',
				input_schema: TOOLS[0].parameters,
			},
			{
				name: 'request_refund',
				description: 'Asks for a refund of an order.',
				input_schema: TOOLS[1].parameters,
			},
		]);
		assert.deepEqual(body.messages, [
			{ role: 'user', content: 'Order A-1001 arrived broken.' },
			{
				role: 'assistant',
				content: [
					{ type: 'text', text: 'Let me look that up.' },
					{ type: 'tool_use', id: 'call_a', name: 'lookup_order', input: { orderId: 'A-1001' } },
					{ type: 'tool_use', id: 'call_b', name: 'lookup_order', input: { orderId: 'A-1002' } },
				],
			},
			{
				role: 'user',
				content: [
					{ type: 'tool_result', tool_use_id: 'call_a', content: '{"status":"delivered"}' },
					{ type: 'tool_result', tool_use_id: 'call_b', content: 'not found' },
				],
			},
		]);
	},
	openai(body) {
		assert.deepEqual(body.tools, [
			{
				type: 'function',
				function: {
					name: 'lookup_order',
					description: 'Finds an order by its id.',
					parameters: TOOLS[0].parameters,
				},
			},
			{
				type: 'function',
				function: {
					name: 'request_refund',
					description: 'Asks for a refund of an order.',
					parameters: TOOLS[1].parameters,
				},
			},
		]);
		assert.deepEqual(body.messages, [
			{ role: 'system', content: 'You are a support agent.' },
			{ role: 'user', content: 'Order A-1001 arrived broken.' },
			{
				role: 'assistant',
				content: 'Let me look that up.',
				tool_calls: [
					{
						id: 'call_a',
						type: 'function',
						function: { name: 'lookup_order', arguments: '{"orderId":"A-1001"}' },
					},
					{
						id: 'call_b',
						type: 'function',
						function: { name: 'lookup_order', arguments: '{"orderId":"A-1002"}' },
					},
				],
			},
			{ role: 'tool', tool_call_id: 'call_a', content: '{"status":"delivered"}' },
			{ role: 'tool', tool_call_id: 'call_b', content: 'not found' },
		]);
	},
	gemini(body) {
		assert.deepEqual(body.systemInstruction, {
			role: 'user',
			parts: [{ text: 'You are a support agent.' }],
		});
		assert.deepEqual(body.tools, [
			{
				functionDeclarations: [
					{
						name: 'lookup_order',
						description: 'Finds an order by its id.',
						parametersJsonSchema: TOOLS[0].parameters,
					},
					{
						name: 'request_refund',
						description: 'Asks for a refund of an order.',
						parametersJsonSchema: TOOLS[1].parameters,
					},
				],
			},
		]);
		const signature = { thoughtSignature: 'skip_thought_signature_validator' };
		assert.deepEqual(body.contents, [
			{ role: 'user', parts: [{ text: 'Order A-1001 arrived broken.' }] },
			{
				role: 'model',
				parts: [
					{ text: 'Let me look that up.' },
					{
						functionCall: { id: 'call_a', name: 'lookup_order', args: { orderId: 'A-1001' } },
						...signature,
					},
					{
						functionCall: { id: 'call_b', name: 'lookup_order', args: { orderId: 'A-1002' } },
						...signature,
					},
				],
			},
			{
				role: 'user',
				parts: [
					{
						functionResponse: {
							id: 'call_a',
							name: 'lookup_order',
							response: { output: '{"status":"delivered"}' },
						},
					},
					{
						functionResponse: {
							id: 'call_b',
							name: 'lookup_order',
							response: { output: 'not found' },
						},
					},
				],
			},
		]);
	},
	ollama(body) {
		assert.equal(body.stream, false);
		assert.deepEqual(body.tools, [
			{
				type: 'function',
				function: {
					name: 'lookup_order',
					description: 'Finds an order by its id.',
					parameters: TOOLS[0].parameters,
				},
			},
			{
				type: 'function',
				function: {
					name: 'request_refund',
					description: 'Asks for a refund of an order.',
					parameters: TOOLS[1].parameters,
				},
			},
		]);
		assert.deepEqual(body.messages, [
			{ role: 'system', content: 'You are a support agent.' },
			{ role: 'user', content: 'Order A-1001 arrived broken.' },
			{
				role: 'assistant',
				content: 'Let me look that up.',
				tool_calls: [
					{ function: { name: 'lookup_order', arguments: { orderId: 'A-1001' } } },
					{ function: { name: 'lookup_order', arguments: { orderId: 'A-1002' } } },
				],
			},
			{
				role: 'tool',
				content: '{"status":"delivered"}',
				tool_name: 'lookup_order',
				tool_call_id: 'call_a',
			},
			{ role: 'tool', content: 'not found', tool_name: 'lookup_order', tool_call_id: 'call_b' },
		]);
	},
};

/** Tool-call ids: the provider's own where its wire has them, made up where it has none. */
const CALL_ID: Record<WireProvider, RegExp> = {
	anthropic: /^toolu_emu\w+$/,
	openai: /^call_emu\w+$/,
	gemini: /^call_[0-9a-f]{24}$/,
	ollama: /^call_[0-9a-f]{24}$/,
};

for (const provider of WIRE_PROVIDERS) {
	describe(`${provider}: tool calls through the SDK`, () => {
		it('sends tools, tool calls and tool results in its wire shape, and reads text with a tool call back', async () => {
			ctx.emulator.loadScenario(SCRIPT);
			ctx.emulator.resetCounts();
			const response = await complete(provider, { messages: CONVERSATION, tools: TOOLS });
			WIRE_SHAPES[provider](receivedBody(provider));
			const [received] = ctx.emulator.received(provider);
			assert.deepEqual(received.tools, ['lookup_order', 'request_refund']);
			assert.equal(received.toolResults, 2);
			assert.equal(received.turn, 1, 'the model spoke once since the person did');

			assert.equal(response.text, 'I will ask for a refund.');
			assert.equal(response.finish, 'stop');
			assert.equal(response.toolCalls?.length, 1);
			const [call] = response.toolCalls ?? [];
			assert.equal(call.name, REFUND.name);
			assert.deepEqual(call.arguments, REFUND.arguments);
			assert.match(call.id, CALL_ID[provider]);
		});

		it('reads a reply of tool calls alone: parallel calls, no text', async () => {
			ctx.emulator.loadScenario({
				turns: [{ toolCalls: [LOOKUP, { name: 'lookup_order', arguments: { orderId: 'B-7' } }] }],
			});
			ctx.emulator.resetCounts();
			const response = await complete(provider, {
				messages: [{ role: 'user', content: 'Where are A-1001 and B-7?' }],
				tools: TOOLS,
			});
			assert.equal(response.text, '');
			assert.equal(response.finish, 'stop');
			assert.deepEqual(
				response.toolCalls?.map((c) => c.arguments),
				[{ orderId: 'A-1001' }, { orderId: 'B-7' }],
			);
			const ids = response.toolCalls?.map((c) => c.id) ?? [];
			assert.equal(new Set(ids).size, 2, 'each call has its own id');
			assert.equal(ctx.emulator.received(provider)[0].turn, 0);
		});

		it('a single prompt is a system text and one user message, with no tools', async () => {
			ctx.emulator.loadScenario(SCRIPT);
			ctx.emulator.resetCounts();
			const response = await complete(provider, {
				messages: [
					{ role: 'system', content: 'Be brief.' },
					{ role: 'user', content: 'Summarise the ticket.' },
				],
			});
			const body = receivedBody(provider);
			assert.equal(body.tools, undefined, 'no tools offered');
			assert.equal(response.toolCalls, undefined, 'turns apply only when tools are offered');
			assert.equal(response.text, `Emulated answer from ${provider}/${MODELS[provider]}.`);
			if (provider === 'anthropic') {
				assert.equal(body.system, 'Be brief.');
				assert.deepEqual(body.messages, [{ role: 'user', content: 'Summarise the ticket.' }]);
			} else if (provider === 'gemini') {
				assert.deepEqual(body.systemInstruction.parts, [{ text: 'Be brief.' }]);
				assert.deepEqual(body.contents, [
					{ role: 'user', parts: [{ text: 'Summarise the ticket.' }] },
				]);
			} else {
				assert.deepEqual(body.messages, [
					{ role: 'system', content: 'Be brief.' },
					{ role: 'user', content: 'Summarise the ticket.' },
				]);
			}
		});
	});
}

describe('scripted turns', () => {
	it('a request gets the turn after the model turns since the last user message; past the script, the normal reply', async () => {
		ctx.emulator.loadScenario(SCRIPT);
		ctx.emulator.resetCounts();
		const messages: ChatMessage[] = [{ role: 'user', content: 'Refund A-1001, please.' }];
		const answers: string[] = [];
		for (let step = 0; step < 5; step++) {
			const response = await complete('openai', { messages, tools: TOOLS });
			answers.push(response.toolCalls?.map((c) => c.name).join('+') || response.text);
			messages.push({ role: 'assistant', content: response.text, toolCalls: response.toolCalls });
			for (const call of response.toolCalls ?? [])
				messages.push({ role: 'tool', toolCallId: call.id, name: call.name, content: 'ok' });
			if (step === 2) messages.push({ role: 'user', content: 'And order B-7?' });
		}
		assert.deepEqual(answers, [
			'lookup_order',
			'request_refund',
			'Your refund is on its way.',
			// A new message from the person starts the script again.
			'lookup_order',
			'request_refund',
		]);
		assert.deepEqual(
			ctx.emulator.received('openai').map((c) => [c.turn, c.toolResults]),
			[
				[0, 0],
				[1, 1],
				[2, 2],
				[0, 2],
				[1, 3],
			],
		);
		// The first three messages hold one model turn; a script of one turn has nothing for it.
		ctx.emulator.loadScenario({ turns: SCRIPT.turns?.slice(0, 1) });
		const past = await complete('openai', { messages: messages.slice(0, 3), tools: TOOLS });
		assert.equal(past.toolCalls, undefined, 'past the last turn');
		assert.equal(past.text, `Emulated answer from openai/${MODELS.openai}.`);
	});

	it('lists the calls it received over HTTP, and forgets them on reset', async () => {
		ctx.emulator.loadScenario(SCRIPT);
		ctx.emulator.resetCounts();
		await complete('gemini', { messages: CONVERSATION, tools: TOOLS });
		const listed = async () => {
			const response = await fetch(`${ctx.emulator.baseUrl}/_emulator/requests`, {
				signal: AbortSignal.timeout(5_000),
			});
			return (await response.json()) as {
				provider: string;
				toolResults: number;
				tools: string[];
			}[];
		};
		const [call] = await listed();
		assert.equal(call.provider, 'gemini');
		assert.equal(call.toolResults, 2);
		assert.deepEqual(call.tools, ['lookup_order', 'request_refund']);
		await fetch(`${ctx.emulator.baseUrl}/_emulator/reset`, {
			method: 'POST',
			signal: AbortSignal.timeout(5_000),
		});
		assert.deepEqual(await listed(), []);
	});

	it("a rule's turns take the place of the scenario's, for the calls it matches", async () => {
		ctx.emulator.loadScenario({
			...SCRIPT,
			rules: [{ provider: 'gemini', turns: [{ toolCalls: [REFUND] }] }],
		});
		const messages: ChatMessage[] = [{ role: 'user', content: 'Refund A-1001.' }];
		const gemini = await complete('gemini', { messages, tools: TOOLS });
		const ollama = await complete('ollama', { messages, tools: TOOLS });
		assert.deepEqual(gemini.toolCalls?.[0].name, 'request_refund');
		assert.deepEqual(ollama.toolCalls?.[0].name, 'lookup_order');
	});

	it('an unusable answer carries no tool calls', async () => {
		ctx.emulator.loadScenario({ ...SCRIPT, rules: [{ fault: 'truncated' }] });
		const response = await complete('anthropic', {
			messages: [{ role: 'user', content: 'Refund A-1001.' }],
			tools: TOOLS,
		});
		assert.equal(response.finish, 'length');
		assert.equal(response.toolCalls, undefined);
	});
});

describe('rule filters for conversations', () => {
	const shape = (toolResults: number): ConversationShape => ({
		toolResults,
		turn: toolResults,
		hasTools: true,
	});

	it('afterCalls: a fault from the second call on, counting calls other rules answered', async () => {
		ctx.emulator.loadScenario({
			rules: [
				{ provider: 'anthropic', afterCalls: 1, fault: 'overloaded' },
				{ provider: 'anthropic', times: 1, latencyMs: 1 },
			],
		});
		const statuses: number[] = [];
		for (let i = 0; i < 3; i++) {
			statuses.push(
				await complete('anthropic', {
					messages: [{ role: 'user', content: 'hi' }],
				}).then(
					() => 200,
					(error: { status?: number }) => error.status ?? 0,
				),
			);
		}
		assert.deepEqual(statuses, [200, 529, 529]);
		// Its own counting, in order: a later rule sees calls an earlier rule answered.
		const state = new ScenarioState(
			parseScenario({
				rules: [
					{ provider: 'openai', times: 2, fault: 'server_error' },
					{ provider: 'openai', afterCalls: 3, fault: 'auth' },
				],
			}),
			Math.random,
			0,
		);
		assert.deepEqual(
			[1, 2, 3, 4, 5].map(() => state.decide('openai', MODELS.openai, 0).fault),
			['server_error', 'server_error', 'ok', 'auth', 'auth'],
		);
	});

	it('minToolResults and maxToolResults: by the tool results the request carries', () => {
		const state = new ScenarioState(
			parseScenario({
				rules: [
					{
						provider: 'anthropic',
						minToolResults: 1,
						maxToolResults: 2,
						fault: 'context_too_long',
					},
				],
			}),
			Math.random,
			0,
		);
		assert.deepEqual(
			[0, 1, 2, 3].map((n) => state.decide('anthropic', MODELS.anthropic, 0, shape(n)).fault),
			['ok', 'context_too_long', 'context_too_long', 'ok'],
		);
	});

	it('400 prompt too long once a tool result is in the conversation, through the SDK', async () => {
		ctx.emulator.loadScenario({
			...SCRIPT,
			rules: [{ provider: 'anthropic', minToolResults: 1, fault: 'context_too_long' }],
		});
		const first = await complete('anthropic', {
			messages: [{ role: 'user', content: 'Refund A-1001.' }],
			tools: TOOLS,
		});
		assert.equal(first.toolCalls?.[0].name, 'lookup_order');
		const call = first.toolCalls?.[0];
		assert.ok(call);
		await assert.rejects(
			complete('anthropic', {
				messages: [
					{ role: 'user', content: 'Refund A-1001.' },
					{ role: 'assistant', content: '', toolCalls: [call] },
					{ role: 'tool', toolCallId: call.id, name: call.name, content: 'delivered' },
				],
				tools: TOOLS,
			}),
			(error: { status?: number; message?: string }) =>
				error.status === 400 && /prompt is too long/.test(error.message ?? ''),
		);
	});

	it('names the field of a bad turn', () => {
		const bad: [unknown, RegExp][] = [
			[{ turns: {} }, /^scenario turns: must be a list/],
			[{ turns: [{}] }, /^scenario turns\[0\]: needs toolCalls, reply or both/],
			[
				{ rules: [{ turns: [{ toolCalls: [{ arguments: {} }] }] }] },
				/^scenario rules\[0\]\.turns\[0\]\.toolCalls\[0\]\.name: must be non-empty text/,
			],
			[
				{ turns: [{ toolCalls: [{ name: 'x', arguments: [1] }] }] },
				/^scenario turns\[0\]\.toolCalls\[0\]\.arguments: must be an object/,
			],
			[{ rules: [{ afterCalls: -1 }] }, /^scenario rules\[0\]\.afterCalls: must be a number/],
			[{ rules: [{ minToolResults: 'one' }] }, /^scenario rules\[0\]\.minToolResults/],
		];
		for (const [scenario, message] of bad) {
			assert.throws(
				() => parseScenario(scenario),
				(error: unknown) => error instanceof ScenarioError && message.test(error.message),
				JSON.stringify(scenario),
			);
		}
	});
});

describe('tool results the real APIs reject', () => {
	async function post(path: string, body: unknown, headers: Record<string, string>) {
		const response = await fetch(`${ctx.emulator.baseUrl}${path}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json', ...headers },
			body: JSON.stringify(body),
			signal: AbortSignal.timeout(5_000),
		});
		return {
			status: response.status,
			body: (await response.json()) as { error: { message: string } },
		};
	}

	it('Anthropic: a tool_result that answers no tool_use of the turn before', async () => {
		ctx.emulator.loadScenario({});
		const { status, body } = await post(
			'/v1/messages',
			{
				model: MODELS.anthropic,
				max_tokens: 10,
				messages: [
					{ role: 'user', content: 'hi' },
					{
						role: 'assistant',
						content: [{ type: 'tool_use', id: 'toolu_1', name: 'lookup_order', input: {} }],
					},
					{
						role: 'user',
						content: [{ type: 'tool_result', tool_use_id: 'toolu_2', content: 'x' }],
					},
				],
			},
			{ 'x-api-key': 'k' },
		);
		assert.equal(status, 400);
		assert.match(
			body.error.message,
			/unexpected `tool_use_id` found in `tool_result` blocks: toolu_2/,
		);
	});

	it('OpenAI: a tool call left without its tool message', async () => {
		const { status, body } = await post(
			'/v1/chat/completions',
			{
				model: MODELS.openai,
				messages: [
					{ role: 'user', content: 'hi' },
					{
						role: 'assistant',
						content: null,
						tool_calls: [
							{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } },
						],
					},
					{ role: 'user', content: 'hello?' },
				],
			},
			{ authorization: 'Bearer k' },
		);
		assert.equal(status, 400);
		assert.match(body.error.message, /did not have response messages: call_1/);
	});

	it('Gemini: a function response that follows no function call', async () => {
		const { status, body } = await post(
			`/v1beta/models/${MODELS.gemini}:generateContent`,
			{
				contents: [
					{ role: 'user', parts: [{ text: 'hi' }] },
					{ role: 'user', parts: [{ functionResponse: { name: 'f', response: {} } }] },
				],
			},
			{ 'x-goog-api-key': 'k' },
		);
		assert.equal(status, 400);
		assert.match(
			body.error.message,
			/function response turn comes immediately after a function call/,
		);
	});
});
