/**
 * Every error class, for every provider, through the real SDKs over HTTP against the
 * emulator: how often the engine retried, how long it waited, whether it failed over, the
 * outcome and the attempt record. Twice: for a single prompt (Resilient LLM), and for a
 * conversation with tools and a tool result whose answer is a tool call (Resilient Chat Model).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FailoverChain } from '../../lib/engine/failoverChain';
import type { ErrorClass, Task, ToolDefinition } from '../../lib/engine/types';
import { ERROR_CLASSES } from '../../lib/engine/types';
import type { Fault } from '../../lib/emulator/scenario';
import type { WireProvider } from '../../lib/emulator/wire';
import { FAST_BACKOFF, HALF, MODELS, WIRE_PROVIDERS, tier, useEmulator } from '../support/emulator';
import { VirtualClock, hangingOn } from '../support/virtualClock';

const ctx = useEmulator();

/**
 * Per-attempt limit, in virtual time. Far above any real delay, so the SDKs' own timeouts
 * (the limit plus a second, in real time) never act before the engine cuts a hanging call off.
 */
const LIMIT_MS = 60_000;

/** Classes worth retrying on the same model; the rest fail over after one try. */
const RETRIED = new Set<ErrorClass>([
	'rate_limited',
	'overloaded',
	'server_error',
	'timeout',
	'connection',
	'empty_output',
	'invalid_output',
]);

const EMULATOR_FAULT: Partial<Record<ErrorClass, Fault>> = { timeout: 'hang', connection: 'drop' };

const STATUS: Record<ErrorClass, Partial<Record<WireProvider, number>> & { all?: number }> = {
	rate_limited: { all: 429 },
	quota_exhausted: { all: 429 },
	overloaded: { anthropic: 529, all: 503 },
	server_error: { all: 500 },
	context_too_long: { all: 400 },
	auth: { gemini: 400, all: 401 },
	bad_request: { all: 400 },
	model_not_found: { all: 404 },
	refused: { all: 200 },
	truncated: { all: 200 },
	empty_output: { all: 200 },
	invalid_output: { all: 200 },
	timeout: {},
	connection: {},
};

/** The server's retry hint for a 429 scripted with retryAfterS 0.05, as each provider sends it. */
const RATE_HINT: Record<WireProvider, { source: string; ms: number }> = {
	anthropic: { source: 'retry-after', ms: 1000 }, // whole seconds in the header
	openai: { source: 'retry-after-ms', ms: 50 },
	gemini: { source: 'gemini-retry-info', ms: 50 },
	ollama: { source: 'retry-after', ms: 1000 },
};

const FALLBACK_MODEL = 'fallback-model';

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
		parameters: { type: 'object', properties: { orderId: { type: 'string' } } },
	},
];

/** An agent's second model call: the first tool already ran, its result is in the conversation. */
const CONVERSATION: Task = {
	messages: [
		{ role: 'system', content: 'You are a support agent. Use the tools.' },
		{ role: 'user', content: 'Please refund order A-1001.' },
		{
			role: 'assistant',
			content: '',
			toolCalls: [{ id: 'call_prior_1', name: 'lookup_order', arguments: { orderId: 'A-1001' } }],
		},
		{
			role: 'tool',
			toolCallId: 'call_prior_1',
			name: 'lookup_order',
			content: '{"orderId":"A-1001","status":"delivered","total":42}',
		},
	],
	tools: TOOLS,
};

/** What the conversation's answering model does next: the second tool call. */
const REFUND_CALL = { name: 'request_refund', arguments: { orderId: 'A-1001' } };

const TOOLS_FIRST_CALL = { name: 'lookup_order', arguments: { orderId: 'A-1001' } };

const PATHS = ['prompt', 'conversation'] as const;

for (const path of PATHS)
	for (const provider of WIRE_PROVIDERS) {
		const fallback: WireProvider = provider === 'anthropic' ? 'openai' : 'anthropic';
		const conversation = path === 'conversation';
		describe(`${provider}, ${conversation ? 'a conversation with tools' : 'a single prompt'}: each error class`, () => {
			for (const errorClass of ERROR_CLASSES) {
				// Ollama has no refusal signal on the wire: its text is indistinguishable from an answer.
				const unsignalled = provider === 'ollama' && errorClass === 'refused';
				const retried = RETRIED.has(errorClass);
				const tries = retried ? 3 : 1;
				const title = unsignalled
					? 'refused: Ollama sends no refusal signal, so the text is delivered as an answer'
					: `${errorClass}: ${retried ? 'retried twice on the same model' : 'not retried'}, then answered by the next tier`;

				it(title, async () => {
					const { emulator } = ctx;
					emulator.loadScenario({
						rules: [
							{
								provider,
								model: MODELS[provider],
								fault: EMULATOR_FAULT[errorClass] ?? (errorClass as Fault),
								...(errorClass === 'rate_limited' ? { retryAfterS: 0.05 } : {}),
							},
							conversation
								? {
										provider: fallback,
										model: FALLBACK_MODEL,
										turns: [{ toolCalls: [TOOLS_FIRST_CALL] }, { toolCalls: [REFUND_CALL] }],
									}
								: { provider: fallback, model: FALLBACK_MODEL, reply: '{"ok": true}' },
						],
					});
					emulator.resetCounts();
					const clock = new VirtualClock();
					const chain = new FailoverChain(
						{
							tiers: [
								tier(emulator, provider, {
									contextWindow: 100_000,
									timeoutMs: LIMIT_MS,
								}),
								tier(emulator, fallback, {
									model: FALLBACK_MODEL,
									contextWindow: 1_000_000,
									price: { inputPerMTok: 1, outputPerMTok: 2 },
								}),
							],
							backoff: FAST_BACKOFF,
							deadlineMs: 10 * LIMIT_MS,
							output: { json: errorClass === 'invalid_output' },
						},
						{ random: HALF, clock },
					);
					const result = await clock.run(
						chain.run(
							conversation
								? CONVERSATION
								: { prompt: 'Summarise the customer ticket in one sentence.' },
						),
						errorClass === 'timeout' ? hangingOn(emulator, provider, clock) : undefined,
					);

					if (unsignalled) {
						assert.equal(result.outcome, 'answered');
						assert.equal(result.tier, 1);
						assert.equal(emulator.count(fallback), 0);
						return;
					}

					assert.equal(result.outcome, 'answered', result.reasonText);
					assert.equal(result.tier, 2, 'answered by the second tier');
					assert.equal(result.provider, fallback);
					if (conversation) {
						// The answer is the tool call alone; the next tier got the tools and the tool result.
						assert.equal(result.text, '');
						assert.deepEqual(
							result.toolCalls?.map(({ name, arguments: args }) => ({ name, arguments: args })),
							[REFUND_CALL],
						);
						assert.ok(result.toolCalls?.[0].id, 'the tool call has an id');
						for (const [wire, calls] of [
							[provider, emulator.received(provider)],
							[fallback, emulator.received(fallback)],
						] as const) {
							assert.ok(calls.length > 0, `${wire} was called`);
							for (const call of calls) {
								assert.deepEqual(
									call.tools,
									['lookup_order', 'request_refund'],
									`${wire} got the tools`,
								);
								assert.equal(call.toolResults, 1, `${wire} got the tool result`);
							}
						}
					} else {
						assert.equal(result.toolCalls, undefined);
					}
					assert.equal(
						emulator.count(provider, MODELS[provider]),
						tries,
						'calls to the failing model',
					);
					assert.equal(emulator.count(fallback, FALLBACK_MODEL), 1, 'calls to the fallback');

					const failed = result.attempts.filter((a) => a.tier === 1);
					assert.equal(failed.length, tries);
					const status = STATUS[errorClass][provider] ?? STATUS[errorClass].all;
					failed.forEach((attempt, i) => {
						assert.equal(attempt.status, 'failed');
						assert.equal(attempt.errorClass, errorClass, `attempt ${i + 1} class`);
						assert.equal(attempt.attempt, i + 1);
						assert.equal(attempt.httpStatus, status, `attempt ${i + 1} HTTP status`);
						assert.equal(attempt.decision, i < tries - 1 ? 'retry' : 'next_tier');
						assert.ok(attempt.message && attempt.message.length > 0, 'a message for people');
						if (errorClass === 'timeout')
							assert.equal(attempt.latencyMs, LIMIT_MS, 'cut off at exactly its limit');
					});
					if (
						status !== undefined &&
						status >= 400 &&
						(provider === 'anthropic' || provider === 'openai')
					) {
						assert.match(failed[0].requestId ?? '', /^req_emu/, 'provider request id recorded');
					}
					if (errorClass === 'rate_limited') {
						const hint = RATE_HINT[provider];
						for (const attempt of failed.slice(0, -1)) {
							assert.deepEqual(attempt.retryHint, { ...hint, used: true });
							assert.equal(attempt.waitedMs, hint.ms, 'waited what the server asked');
						}
					} else if (retried) {
						// Full jitter with random() = 0.5: half of 20 ms, then half of 40 ms.
						assert.deepEqual(
							failed.slice(0, -1).map((a) => a.waitedMs),
							[10, 20],
						);
					}
					assert.equal(failed[tries - 1].waitedMs, 0, 'no wait before failing over');
					assert.equal(
						result.latencyMs,
						failed.reduce((sum, a) => sum + a.waitedMs, 0) +
							(errorClass === 'timeout' ? tries * LIMIT_MS : 0),
						'the task took its waits and its cut-off calls, nothing more',
					);

					const answer = result.attempts[result.attempts.length - 1];
					assert.equal(answer.status, 'ok');
					assert.equal(answer.tier, 2);
					assert.equal(answer.httpStatus, 200);
					assert.ok(answer.costUsd > 0, 'the answer is priced');
					if (status === 200 && provider !== 'ollama') {
						assert.ok(
							failed[0].costUsd > 0,
							'an unusable answer still costs money, and is counted',
						);
					}
					const sum = result.attempts.reduce((s, a) => s + a.costUsd, 0);
					assert.ok(Math.abs(result.costUsd - sum) < 1e-9, 'total cost is the sum of attempts');
					assert.deepEqual(
						result.tiers.map((t) => [t.tier, t.attempts]),
						[
							[1, tries],
							[2, 1],
						],
					);
					for (const summary of result.tiers) {
						assert.equal(
							summary.attempts,
							result.attempts.filter((a) => a.tier === summary.tier).length,
							'tier summaries and attempts number tiers the same way',
						);
					}
				});
			}
		});
	}
