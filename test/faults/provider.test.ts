/**
 * A provider's transport failing in a real n8n, on every provider's SDK: the connection cut
 * mid-body, a 200 with a truncated JSON body, an answer dripped a byte at a time over 30 s
 * (cut off by the tier's Timeout, 1 s here), and a proxy's HTML 502 page. Half the calls
 * failing, then all of them: every item ends on exactly one output, every answer sent is
 * delivered, provider calls stay within items x attempts, and the attempt record names what
 * happened.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { ErrorClass } from '../../lib/engine/types';
import type { Fault } from '../../lib/emulator/scenario';
import { KEYS, MODELS, WIRE_PROVIDERS } from '../support/emulator';
import { useN8n } from '../support/n8nFixture';
import { llmWorkflow } from '../support/workflows';
import { assertEachOnExactlyOneOutput, outputsOf } from '../support/executionOutputs';

const ctx = useN8n();

const ITEMS = 8;
/** Attempts per tier, in chain order (anthropic, openai, gemini, ollama). */
const ATTEMPTS = [2, 2, 1, 1];
const ATTEMPTS_PER_ITEM = ATTEMPTS.reduce((a, b) => a + b, 0);

const CASES: Array<{ fault: Fault; errorClass: ErrorClass; what: string }> = [
	{ fault: 'drop_mid_body', errorClass: 'connection', what: 'the connection dropped mid-body' },
	{ fault: 'malformed', errorClass: 'server_error', what: 'a 200 with a truncated JSON body' },
	{ fault: 'slow_drip', errorClass: 'timeout', what: 'a 30 s slow drip of bytes' },
	{ fault: 'proxy_html_502', errorClass: 'server_error', what: "a proxy's HTML 502 page" },
];

const workflows = new Map<Fault, { id: string; path: string }>();

/** One workflow per fault, made the first time it is needed. */
async function workflowFor(fault: Fault): Promise<{ id: string; path: string }> {
	const existing = workflows.get(fault);
	if (existing) return existing;
	const path = `provider-${fault}`;
	const parameters = {
		prompt: '={{ $json.text }}',
		chain: {
			tiers: WIRE_PROVIDERS.map((provider, i) => ({
				provider,
				model: MODELS[provider],
				attempts: ATTEMPTS[i],
				// Short, so a 30 s drip costs a second per try, not thirty.
				timeoutSeconds: 1,
			})),
		},
		// Every option the outcome depends on, set here: defaults may change.
		options: {
			circuitBreaker: false,
			idempotency: 'off',
			recordMetrics: false,
			concurrency: 4,
			deadlineSeconds: 120,
			initialBackoffMs: 20,
			maxRetryWaitSeconds: 1,
			requireComplete: true,
		},
	};
	const id = await ctx.n8n.createWorkflow(
		llmWorkflow(`Provider fault ${fault}`, path, parameters, ctx.credentials, {
			onError: 'continueErrorOutput',
		}),
	);
	workflows.set(fault, { id, path });
	return { id, path };
}

const items = (tag: string) =>
	Array.from({ length: ITEMS }, (_, id) => ({ id, text: `Ticket ${tag}-${id}` }));

type Attempt = { tier: number; status: string; errorClass?: string; message?: string };

for (const { fault, errorClass, what } of CASES) {
	describe(what, () => {
		it('half the calls failing: every item on one output, every answer delivered, calls within items x attempts', async () => {
			const { emulator, n8n } = ctx;
			emulator.loadScenario({ apiKeys: KEYS, rules: [{ fault, rate: 0.5, dripSeconds: 30 }] });
			emulator.resetCounts();
			const { id, path } = await workflowFor(fault);
			const input = items(`${fault}-half`);
			assert.equal((await n8n.webhook(path, { items: input }, 300_000)).status, 200);
			const outputs = outputsOf(await n8n.latestExecution(id));
			assertEachOnExactlyOneOutput(
				outputs,
				input.map((item) => item.id),
			);
			assert.equal(outputs.errors.length, 0, 'provider failures route items, never fail them');
			assert.ok(emulator.stats().total <= ITEMS * ATTEMPTS_PER_ITEM);
			assert.equal(emulator.answers(), outputs.answered.length, 'every answer sent was delivered');
			for (const item of outputs.answered) {
				const attempts = (item.resilience as { attempts: Attempt[] }).attempts;
				for (const failed of attempts.filter((a) => a.status === 'failed'))
					assert.equal(failed.errorClass, errorClass);
			}
		});

		it('every call failing: every item goes to Needs Human after every try, each named for what happened', async () => {
			const { emulator, n8n } = ctx;
			emulator.loadScenario({ apiKeys: KEYS, rules: [{ fault, dripSeconds: 30 }] });
			emulator.resetCounts();
			const { id, path } = await workflowFor(fault);
			const input = items(`${fault}-all`);
			assert.equal((await n8n.webhook(path, { items: input }, 300_000)).status, 200);
			const outputs = outputsOf(await n8n.latestExecution(id));
			assertEachOnExactlyOneOutput(
				outputs,
				input.map((item) => item.id),
			);
			assert.equal(outputs.needsHuman.length, ITEMS);
			assert.equal(emulator.stats().total, ITEMS * ATTEMPTS_PER_ITEM, 'every try, no more');
			assert.equal(emulator.answers(), 0);
			for (const item of outputs.needsHuman) {
				const attempts = (item.resilience as { attempts: Attempt[] }).attempts;
				assert.equal(attempts.length, ATTEMPTS_PER_ITEM);
				for (const attempt of attempts) {
					assert.equal(attempt.errorClass, errorClass);
					assert.doesNotMatch(attempt.message ?? '', /<html|<title/i);
				}
				assert.match(String(item.reason), /Every model in the chain failed/);
			}
		});
	});
}
