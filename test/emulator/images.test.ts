/**
 * Images in a conversation reach every provider in its own wire shape, through its real SDK
 * (asserted on what the emulator received), and a failover carries them to the next tier.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ConfigError } from '../../lib/engine/configError';
import { validateMessages } from '../../lib/engine/taskMessages';
import { FailoverChain } from '../../lib/engine/failoverChain';
import type { ChatMessage } from '../../lib/engine/types';
import type { WireProvider } from '../../lib/emulator/wire';
import { FAST_BACKOFF, KEYS, WIRE_PROVIDERS, tier, useEmulator } from '../support/emulator';

const ctx = useEmulator();

/** A 1×1 PNG. */
const PNG =
	'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

const CONVERSATION: ChatMessage[] = [
	{ role: 'system', content: 'You read receipts.' },
	{ role: 'user', content: 'What is the total?', images: [{ mediaType: 'image/png', data: PNG }] },
];

/** The user turn as each provider's API documents an image beside text. */
const WIRE_SHAPES: Record<WireProvider, unknown> = {
	anthropic: {
		role: 'user',
		content: [
			{ type: 'text', text: 'What is the total?' },
			{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG } },
		],
	},
	openai: {
		role: 'user',
		content: [
			{ type: 'text', text: 'What is the total?' },
			{ type: 'image_url', image_url: { url: `data:image/png;base64,${PNG}` } },
		],
	},
	gemini: {
		role: 'user',
		parts: [{ text: 'What is the total?' }, { inlineData: { mimeType: 'image/png', data: PNG } }],
	},
	ollama: { role: 'user', content: 'What is the total?', images: [PNG] },
};

/** The user turn of the one call this provider received. */
function userTurn(provider: WireProvider): unknown {
	const calls = ctx.emulator.received(provider);
	assert.equal(calls.length, 1, `one call to ${provider}`);
	const body = calls[0].body as { messages?: unknown[]; contents?: unknown[] };
	const turns = (provider === 'gemini' ? body.contents : body.messages) ?? [];
	return turns.find((turn) => (turn as { role?: string }).role === 'user');
}

describe('Images on the wire', () => {
	for (const provider of WIRE_PROVIDERS) {
		it(`${provider}: the image goes beside the text, in ${provider}'s shape`, async () => {
			ctx.emulator.loadScenario({ apiKeys: KEYS });
			ctx.emulator.resetCounts();
			const chain = new FailoverChain({
				tiers: [tier(ctx.emulator, provider)],
				backoff: FAST_BACKOFF,
			});
			const result = await chain.run({ messages: CONVERSATION });
			assert.equal(result.outcome, 'answered', result.reasonText);
			assert.deepEqual(userTurn(provider), WIRE_SHAPES[provider]);
		});
	}

	it('a failover carries the image to the next tier', async () => {
		ctx.emulator.loadScenario({
			apiKeys: KEYS,
			rules: [{ provider: 'anthropic', fault: 'overloaded' }],
		});
		ctx.emulator.resetCounts();
		const chain = new FailoverChain({
			tiers: [tier(ctx.emulator, 'anthropic', { attempts: 1 }), tier(ctx.emulator, 'gemini')],
			backoff: FAST_BACKOFF,
		});
		const result = await chain.run({ messages: CONVERSATION });
		assert.equal(result.provider, 'gemini', result.reasonText);
		assert.deepEqual(userTurn('anthropic'), WIRE_SHAPES.anthropic);
		assert.deepEqual(userTurn('gemini'), WIRE_SHAPES.gemini);
	});

	it('an image alone is a user turn; an image that is not base64, of a type no provider takes, or outside a user message is refused by field', () => {
		const refused = (messages: unknown[], field: string) =>
			assert.throws(
				() => validateMessages(messages),
				(error: unknown) => error instanceof ConfigError && error.field === field,
			);
		validateMessages([
			{ role: 'user', content: '', images: [{ mediaType: 'image/png', data: PNG }] },
		]);
		refused(
			[{ role: 'user', content: 'x', images: [{ mediaType: 'image/png', data: 'not base64!' }] }],
			'messages[0].images[0].data',
		);
		refused(
			[{ role: 'user', content: 'x', images: [{ mediaType: 'image/tiff', data: PNG }] }],
			'messages[0].images[0].mediaType',
		);
		refused(
			[
				{ role: 'user', content: 'x' },
				{ role: 'assistant', content: 'y', images: [{ mediaType: 'image/png', data: PNG }] },
			],
			'messages[1].images',
		);
	});
});
