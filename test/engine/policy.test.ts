/**
 * Per-task policy: context-window failover, high-stakes tasks that must not degrade,
 * output checks, and what a result costs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FailoverChain } from '../../lib/engine/failoverChain';
import { PRICE_TABLE } from '../../lib/engine/pricing';
import { FAST_BACKOFF, HALF, MODELS, WIRE_PROVIDERS, tier, useEmulator } from '../support/emulator';

const ctx = useEmulator();

describe('context too long', () => {
	it('skips tiers whose window is not larger and answers from the next larger one', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ provider: 'anthropic', fault: 'context_too_long' }] });
		emulator.resetCounts();
		const chain = new FailoverChain({
			tiers: [
				tier(emulator, 'anthropic', { contextWindow: 200_000 }),
				tier(emulator, 'openai', { contextWindow: 128_000 }),
				tier(emulator, 'gemini', { contextWindow: 1_048_576 }),
			],
		});
		const result = await chain.run({ prompt: 'A very long contract ...' });
		assert.equal(result.outcome, 'answered');
		assert.equal(result.provider, 'gemini');
		assert.equal(emulator.count('anthropic'), 1, 'never retried on the same model');
		assert.equal(emulator.count('openai'), 0, 'the smaller window is not tried');
		const skipped = result.attempts.find((a) => a.tier === 2);
		assert.equal(skipped?.status, 'skipped');
		assert.match(skipped?.message ?? '', /128000 is not larger than 200000/);
	});

	it('needs a human when no tier has a larger window', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ provider: 'openai', fault: 'context_too_long' }] });
		const chain = new FailoverChain({
			tiers: [
				tier(emulator, 'openai', { contextWindow: 128_000 }),
				tier(emulator, 'ollama', { contextWindow: 8_192 }),
			],
		});
		const result = await chain.run({ prompt: 'A very long contract ...' });
		assert.equal(result.outcome, 'needs_human');
		assert.equal(result.reason, 'no_larger_context');
		assert.match(result.reasonText, /too long for every model/);
	});
});

describe('criticality', () => {
	it('a high-stakes task goes to a human instead of answering from a different model', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ provider: 'anthropic', fault: 'overloaded' }] });
		emulator.resetCounts();
		const chain = new FailoverChain(
			{
				tiers: [tier(emulator, 'anthropic'), tier(emulator, 'openai')],
				criticality: 'high_stakes',
				backoff: FAST_BACKOFF,
			},
			{ random: HALF },
		);
		const result = await chain.run({ prompt: 'Approve a refund of 900 EUR?' });
		assert.equal(result.outcome, 'needs_human');
		assert.equal(result.reason, 'degrade_not_allowed');
		assert.equal(result.text, undefined);
		assert.equal(emulator.count('anthropic'), 3, 'the first tier is still retried');
		assert.equal(emulator.count('openai'), 0, 'the weaker model is never called');
		assert.match(result.reasonText, /high-stakes/);
	});

	it('a high-stakes task may fail over to the same model behind another endpoint', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({
			rules: [{ provider: 'openai', model: 'gpt-4.1-mini', fault: 'server_error', times: 1 }],
		});
		const chain = new FailoverChain({
			tiers: [
				tier(emulator, 'openai', { model: 'gpt-4.1-mini', attempts: 1 }),
				tier(emulator, 'openai', { provider: 'openai_compatible', model: 'gpt-4.1-mini' }),
			],
			criticality: 'high_stakes',
		});
		const result = await chain.run({ prompt: 'Approve a refund?' });
		assert.equal(result.outcome, 'answered');
		assert.equal(result.tier, 2);
		assert.equal(result.provider, 'openai_compatible');
	});

	it('a standard task degrades to the next model', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ provider: 'anthropic', fault: 'quota_exhausted' }] });
		const chain = new FailoverChain({
			tiers: [tier(emulator, 'anthropic'), tier(emulator, 'openai')],
		});
		const result = await chain.run({ prompt: 'Summarise.' });
		assert.equal(result.outcome, 'answered');
		assert.equal(result.provider, 'openai');
		assert.match(result.reasonText, /tier 2/);
	});
});

describe('output checks', () => {
	const schema = {
		type: 'object',
		required: ['decision', 'reason'],
		properties: { decision: { enum: ['approve', 'deny'] }, reason: { type: 'string' } },
	};

	it('JSON that matches the schema is parsed onto the result (fences tolerated)', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({
			rules: [
				{
					provider: 'anthropic',
					reply: '```json\n{"decision": "deny", "reason": "outside the 30-day window"}\n```',
				},
			],
		});
		const chain = new FailoverChain({
			tiers: [tier(emulator, 'anthropic')],
			output: { jsonSchema: schema },
		});
		const result = await chain.run({ prompt: 'Decide the refund.' });
		assert.equal(result.outcome, 'answered');
		assert.deepEqual(result.json, { decision: 'deny', reason: 'outside the 30-day window' });
	});

	it('JSON that breaks the schema is retried, then fails over to a model that complies', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({
			rules: [
				{ provider: 'anthropic', reply: '{"decision": "maybe"}' },
				{ provider: 'openai', reply: '{"decision": "approve", "reason": "damaged on arrival"}' },
			],
		});
		emulator.resetCounts();
		const chain = new FailoverChain(
			{
				tiers: [tier(emulator, 'anthropic', { attempts: 2 }), tier(emulator, 'openai')],
				output: { jsonSchema: schema },
				backoff: FAST_BACKOFF,
			},
			{ random: HALF },
		);
		const result = await chain.run({ prompt: 'Decide the refund.' });
		assert.equal(result.provider, 'openai');
		assert.deepEqual(result.json, { decision: 'approve', reason: 'damaged on arrival' });
		assert.equal(emulator.count('anthropic'), 2);
		assert.equal(result.attempts[0].errorClass, 'invalid_output');
		assert.match(result.attempts[0].message ?? '', /must have required property 'reason'/);
		assert.match(result.attempts[0].message ?? '', /must be equal to one of the allowed values/);
	});
});

describe('truncated answers', () => {
	const REPLY = 'Refund approved: the parcel arrived nine days after the promised date.';
	/** What the emulator sends for a truncated answer: the first half, with the length finish reason. */
	const CUT = 'Refund approved: the parcel arrived';

	it('completeness required (the default): classified truncated, not retried, the next tier answers', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({
			rules: [
				{ provider: 'gemini', fault: 'truncated', reply: REPLY },
				{ provider: 'openai', reply: REPLY },
			],
		});
		const chain = new FailoverChain({
			tiers: [tier(emulator, 'gemini'), tier(emulator, 'openai')],
		});
		const result = await chain.run({ prompt: 'Decide the refund.' });
		assert.deepEqual(
			{
				text: result.text,
				provider: result.provider,
				attempts: result.attempts.map((a) => [a.provider, a.status, a.errorClass, a.decision]),
			},
			{
				text: REPLY,
				provider: 'openai',
				attempts: [
					['gemini', 'failed', 'truncated', 'next_tier'],
					['openai', 'ok', undefined, 'stop'],
				],
			},
		);
	});

	it('completeness required and no other tier: needs a human, and the cut-off text is not delivered', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ provider: 'gemini', fault: 'truncated', reply: REPLY }] });
		const chain = new FailoverChain({ tiers: [tier(emulator, 'gemini')] });
		const result = await chain.run({ prompt: 'Decide the refund.' });
		assert.deepEqual(
			{
				outcome: result.outcome,
				reason: result.reason,
				reasonText: result.reasonText,
				text: result.text,
			},
			{
				outcome: 'needs_human',
				reason: 'all_tiers_failed',
				reasonText:
					'Every model in the chain failed; tier 1 gemini/gemini-2.5-flash: truncated (200) after 1 try.',
				text: undefined,
			},
		);
	});

	for (const provider of WIRE_PROVIDERS) {
		it(`${provider}, completeness not required: the cut-off answer is delivered exactly as sent`, async () => {
			const { emulator } = ctx;
			emulator.loadScenario({ rules: [{ provider, fault: 'truncated', reply: REPLY }] });
			const chain = new FailoverChain({
				tiers: [tier(emulator, provider)],
				output: { requireComplete: false },
			});
			const result = await chain.run({ prompt: 'Decide the refund.' });
			assert.deepEqual(
				{
					outcome: result.outcome,
					text: result.text,
					attempts: result.attempts.map((a) => [a.status, a.errorClass, a.decision]),
				},
				{ outcome: 'answered', text: CUT, attempts: [['ok', undefined, 'stop']] },
			);
		});
	}
});

describe('cost and usage', () => {
	it('prices every attempt from the table, names the table version, sums per tier', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ provider: 'anthropic', fault: 'refused' }] });
		const chain = new FailoverChain({
			tiers: [tier(emulator, 'anthropic'), tier(emulator, 'openai')],
		});
		const result = await chain.run({ prompt: 'Summarise the ticket please.' });
		assert.equal(result.priceTableVersion, PRICE_TABLE.version);
		const [refused, answered] = result.attempts;
		const haiku = PRICE_TABLE.models[MODELS.anthropic];
		const mini = PRICE_TABLE.models[MODELS.openai];
		assert.ok(refused.usage && answered.usage);
		const expectRefused =
			(refused.usage.inputTokens * haiku.inputPerMTok +
				refused.usage.outputTokens * haiku.outputPerMTok) /
			1e6;
		const expectAnswered =
			(answered.usage.inputTokens * mini.inputPerMTok +
				answered.usage.outputTokens * mini.outputPerMTok) /
			1e6;
		assert.ok(Math.abs(refused.costUsd - expectRefused) < 1e-9);
		assert.ok(Math.abs(answered.costUsd - expectAnswered) < 1e-9);
		assert.ok(Math.abs(result.costUsd - (expectRefused + expectAnswered)) < 1e-9);
		assert.deepEqual(result.usage, {
			inputTokens: refused.usage.inputTokens + answered.usage.inputTokens,
			outputTokens: refused.usage.outputTokens + answered.usage.outputTokens,
		});
		assert.deepEqual(
			result.tiers.map((t) => t.costUsd),
			[refused.costUsd, answered.costUsd],
		);
	});

	it('a tier price override wins over the table; local Ollama is free unless priced', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({});
		const priced = await new FailoverChain({
			tiers: [tier(emulator, 'openai', { price: { inputPerMTok: 1_000_000, outputPerMTok: 0 } })],
		}).run({ prompt: 'Hi' });
		assert.equal(priced.costUsd, priced.usage.inputTokens);
		const local = await new FailoverChain({ tiers: [tier(emulator, 'ollama')] }).run({
			prompt: 'Hi',
		});
		assert.equal(local.costUsd, 0);
		assert.ok(local.usage.inputTokens > 0);
	});
});
