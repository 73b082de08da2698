/**
 * Each provider's adapter on its real SDK against the emulator: an answer with its usage, and
 * errors as the provider's descriptor reads them (status, request id, its own rules and retry
 * hints) and as classifyError then names them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { classifyError } from '../../lib/engine/classifyError';
import type { Scenario } from '../../lib/emulator/scenario';
import { PROVIDER_NAMES, providerOf } from '../../lib/providers/registry';
import type { BuiltInProviderName, ProviderName } from '../../lib/providers/types';
import { KEYS, MODELS, useEmulator } from '../support/emulator';

const ctx = useEmulator();

const REPLY = 'A short answer.';

function adapterFor(provider: ProviderName) {
	const descriptor = providerOf(provider);
	return descriptor.createAdapter({
		apiKey: KEYS[descriptor.wire],
		baseUrl: ctx.emulator.urls[descriptor.wire],
		timeoutMs: 10_000,
	});
}

/** The error the adapter throws for one call under this scenario. */
async function failureOf(provider: ProviderName, scenario: Scenario): Promise<unknown> {
	ctx.emulator.loadScenario(scenario);
	try {
		await call(provider);
	} catch (error) {
		return error;
	}
	assert.fail(`${provider}: the call succeeded`);
}

function call(provider: ProviderName) {
	return adapterFor(provider).complete(
		{
			model: MODELS[providerOf(provider).wire],
			messages: [{ role: 'user', content: 'Hello' }],
			maxOutputTokens: 64,
		},
		{ signal: AbortSignal.timeout(10_000), timeoutMs: 10_000 },
	);
}

/** Where each provider puts a 2-second hint, and so where the engine finds it. */
const HINT_SOURCE: Record<BuiltInProviderName, string> = {
	anthropic: 'retry-after',
	gemini: 'gemini-retry-info',
	ollama: 'retry-after',
	openai: 'retry-after-ms',
	openai_compatible: 'retry-after-ms',
};

/** Request ids the SDK hands back, from the provider's header. */
const HAS_REQUEST_ID = new Set<ProviderName>(['anthropic', 'openai', 'openai_compatible']);

for (const provider of PROVIDER_NAMES) {
	const descriptor = providerOf(provider);
	const wire = descriptor.wire;
	describe(`${provider}: adapter round trips through ${wire}'s wire`, () => {
		it('an answer, with its model, stop reason and token usage', async () => {
			ctx.emulator.loadScenario({ reply: REPLY });
			const response = await call(provider);
			assert.equal(response.text, REPLY);
			assert.equal(response.finish, 'stop');
			assert.equal(response.model, MODELS[wire]);
			// The emulator counts a quarter token per character: "Hello" in, the reply out.
			assert.deepEqual(response.usage, { inputTokens: 5, outputTokens: 4 });
			if (HAS_REQUEST_ID.has(provider)) assert.match(response.requestId ?? '', /^req_emu\w+$/);
		});

		it('a rate limit: read by the descriptor, with the retry hint where the provider puts it', async () => {
			const error = await failureOf(provider, {
				rules: [{ fault: 'rate_limited', retryAfterS: 2 }],
			});
			const failure = descriptor.readFailure?.(error);
			assert.ok(failure, 'the descriptor reads its SDK error');
			assert.equal(failure.status, 429);
			assert.notEqual(failure.text, '');
			if (HAS_REQUEST_ID.has(provider)) assert.match(failure.requestId ?? '', /^req_emu\w+$/);
			const classified = classifyError(provider, error);
			assert.equal(classified.errorClass, 'rate_limited');
			assert.equal(classified.httpStatus, 429);
			assert.deepEqual(classified.retryHint, { source: HINT_SOURCE[provider], ms: 2000 });
		});

		it('an exhausted quota is not a rate limit, though it is a 429 too', async () => {
			const error = await failureOf(provider, { rules: [{ fault: 'quota_exhausted' }] });
			const failure = descriptor.readFailure?.(error);
			assert.equal(failure?.status, 429);
			// Anthropic's spend limit and Gemini's daily quota need the provider's own rule.
			if (provider === 'anthropic' || provider === 'gemini')
				assert.equal(descriptor.classifyHttp?.(failure!), 'quota_exhausted');
			assert.equal(classifyError(provider, error).errorClass, 'quota_exhausted');
		});

		it('a rejected key is auth, whatever status the provider sends it with', async () => {
			const error = await failureOf(provider, { apiKeys: { [wire]: 'another-key' } });
			const failure = descriptor.readFailure?.(error);
			assert.equal(failure?.status, wire === 'gemini' ? 400 : 401);
			assert.equal(classifyError(provider, error).errorClass, 'auth');
		});

		it('a connection dropped before any answer is a connection failure', async () => {
			const error = await failureOf(provider, { rules: [{ fault: 'drop' }] });
			assert.equal(descriptor.readFailure?.(error), undefined, 'no HTTP answer to read');
			assert.equal(classifyError(provider, error).errorClass, 'connection');
		});
	});
}
