/**
 * A connected tier on the LangChain chat models n8n's own chat model nodes are made of
 * (ChatOpenAI, ChatAnthropic from the pinned n8n's install), against the emulator: one HTTP
 * call per attempt whatever the model's own retry setting, errors classified as for the
 * built-in providers, tools and tool results carried across a failover to a built-in tier,
 * and a streamed answer arriving in pieces.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { FailoverChain } from '../../lib/engine/failoverChain';
import type { ChainConfig, TierConfig } from '../../lib/engine/types';
import { ConnectedModelAdapter, switchOffRetries } from '../../lib/providers/connected';
import type { LangChainChatModel } from '../../lib/providers/connected';
import { runtimeDir } from '../harness/runtime';
import { KEYS, MODELS, tier, useEmulator } from '../support/emulator';

const ctx = useEmulator();
const n8nRequire = createRequire(join(runtimeDir(), 'node_modules', 'n8n', 'package.json'));
const resolveFrom = (pkg: string) =>
	createRequire(n8nRequire.resolve('@n8n/n8n-nodes-langchain/package.json'))(pkg) as Record<
		string,
		new (fields: object) => LangChainChatModel
	>;

/** As n8n's OpenAI and Anthropic Chat Model nodes make them: their default retries on. */
function stockModel(kind: 'openai' | 'anthropic'): LangChainChatModel {
	if (kind === 'openai')
		return new (resolveFrom('@langchain/openai').ChatOpenAI)({
			apiKey: KEYS.openai,
			model: MODELS.openai,
			maxRetries: 2,
			configuration: { baseURL: ctx.emulator.urls.openai },
		});
	return new (resolveFrom('@langchain/anthropic').ChatAnthropic)({
		apiKey: KEYS.anthropic,
		model: MODELS.anthropic,
		anthropicApiUrl: ctx.emulator.urls.anthropic.replace(/\/v1$/, ''),
	});
}

const NODE = {
	input: 1,
	node: 'OpenAI Chat Model',
	nodeType: '@n8n/n8n-nodes-langchain.lmChatOpenAi',
};

function chainWith(
	model: LangChainChatModel,
	family: 'openai' | 'anthropic',
	extra: TierConfig[] = [],
): FailoverChain {
	switchOffRetries(model);
	const adapter = new ConnectedModelAdapter(model, MODELS[family], family);
	const config: ChainConfig = {
		tiers: [
			{ provider: 'connected', model: MODELS[family], connected: NODE, attempts: 2 },
			...extra,
		],
		backoff: { initialDelayMs: 1 },
	};
	return new FailoverChain(config, {
		adapterFor: (t) => (t.provider === 'connected' ? adapter : undefined),
	});
}

describe('a connected LangChain chat model as a tier', () => {
	for (const family of ['openai', 'anthropic'] as const) {
		it(`${family}: answers, with tokens, the node named on the result`, async () => {
			ctx.emulator.loadScenario({ apiKeys: KEYS, reply: 'Hello from the connected model.' });
			const result = await chainWith(stockModel(family), family).run({ prompt: 'Hi' });
			assert.equal(result.outcome, 'answered', result.reasonText);
			assert.equal(result.text, 'Hello from the connected model.');
			assert.equal(result.node, 'OpenAI Chat Model');
			assert.ok(result.usage.inputTokens > 0 && result.usage.outputTokens > 0);
		});

		it(`${family}: a 529/503 is retried once per attempt, the model's own retries off; a 401 is not retried`, async () => {
			ctx.emulator.loadScenario({ rules: [{ provider: family, fault: 'overloaded' }] });
			ctx.emulator.resetCounts();
			const down = await chainWith(stockModel(family), family).run({ prompt: 'Hi' });
			assert.equal(down.outcome, 'needs_human');
			assert.deepEqual(
				down.attempts.map((a) => a.errorClass),
				['overloaded', 'overloaded'],
			);
			assert.equal(ctx.emulator.count(family), 2, 'one HTTP call per attempt');
			ctx.emulator.loadScenario({ rules: [{ provider: family, fault: 'auth' }] });
			ctx.emulator.resetCounts();
			const refused = await chainWith(stockModel(family), family).run({ prompt: 'Hi' });
			assert.deepEqual(
				refused.attempts.map((a) => a.errorClass),
				['auth'],
			);
			assert.equal(ctx.emulator.count(family), 1);
		});
	}

	it('tools: a tool call from the connected model, its result carried to a built-in tier after a failover', async () => {
		const tools = [
			{
				name: 'lookup_order',
				description: 'Finds an order',
				parameters: { type: 'object', properties: { orderId: { type: 'string' } } },
			},
		];
		ctx.emulator.loadScenario({
			apiKeys: KEYS,
			turns: [
				{ toolCalls: [{ name: 'lookup_order', arguments: { orderId: 'A-1' } }] },
				{ reply: 'Your order A-1 is on its way.' },
			],
		});
		const chain = chainWith(stockModel('openai'), 'openai', [tier(ctx.emulator, 'anthropic')]);
		const first = await chain.run({
			messages: [{ role: 'user', content: 'Where is order A-1?' }],
			tools,
		});
		assert.equal(first.tier, 1);
		const [call] = first.toolCalls ?? [];
		assert.deepEqual([call?.name, call?.arguments], ['lookup_order', { orderId: 'A-1' }]);
		// The connected model goes down: the built-in tier gets the whole conversation.
		ctx.emulator.addRules([{ provider: 'openai', fault: 'overloaded' }]);
		ctx.emulator.resetCounts();
		const second = await chain.run({
			messages: [
				{ role: 'user', content: 'Where is order A-1?' },
				{ role: 'assistant', content: '', toolCalls: [call] },
				{ role: 'tool', toolCallId: call.id, name: call.name, content: '{"status":"shipped"}' },
			],
			tools,
		});
		assert.equal(second.tier, 2, second.reasonText);
		assert.equal(second.text, 'Your order A-1 is on its way.');
		const [received] = ctx.emulator.received('anthropic');
		assert.match(JSON.stringify(received.body), /shipped/, 'the tool result went to tier 2');
	});

	it('cost: from the price table; none known: unpriced, said; a local Ollama node: nothing', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS, reply: 'Priced?' });
		const known = await chainWith(stockModel('openai'), 'openai').run({ prompt: 'Hi' });
		assert.ok(known.costUsd > 0, String(known.costUsd));
		assert.equal(known.unpricedModels, undefined);
		const unlisted = (family?: 'openai' | 'ollama') => {
			const model = new (resolveFrom('@langchain/openai').ChatOpenAI)({
				apiKey: KEYS.openai,
				model: 'unlisted-model',
				configuration: { baseURL: ctx.emulator.urls.openai },
			});
			switchOffRetries(model);
			const adapter = new ConnectedModelAdapter(model, 'unlisted-model', family);
			const connected = { ...NODE, ...(family ? { family } : {}) };
			return new FailoverChain(
				{ tiers: [{ provider: 'connected', model: 'unlisted-model', connected }] },
				{ adapterFor: () => adapter },
			).run({ prompt: 'Hi' });
		};
		const unpriced = await unlisted('openai');
		assert.deepEqual(unpriced.unpricedModels, ['unlisted-model']);
		const local = await unlisted('ollama');
		assert.equal(local.unpricedModels, undefined, 'priced as a local Ollama model');
		assert.equal(local.costUsd, 0);
	});

	it('streams: the text arrives in pieces, then the whole answer', async () => {
		const reply = 'One two three four five six seven eight nine ten eleven twelve.';
		ctx.emulator.loadScenario({ apiKeys: KEYS, reply, stream: { chunkTokens: 2 } });
		const pieces: string[] = [];
		const result = await chainWith(stockModel('anthropic'), 'anthropic').run(
			{ prompt: 'Count' },
			{ onText: (t) => pieces.push(t) },
		);
		assert.equal(result.text, reply);
		assert.ok(pieces.length > 3, `${pieces.length} pieces`);
		assert.equal(pieces.join(''), reply);
	});
});
