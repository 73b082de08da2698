/**
 * A key goes only to the host its credential names: at run time, in the model picker and
 * through redirects. A loopback capture server stands in for any other host and records
 * every header it receives.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';

import type { ICredentialDataDecryptedObject, INodeListSearchResult } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { ResilientLlm } from '../../nodes/ResilientLlm/ResilientLlm.node.ts';
import { listModels } from '../../nodes/shared/modelSearch';
import { pickerContext } from '../support/pickerContext';
import { CaptureServer } from '../support/captureServer';
import type { Answer } from '../support/captureServer';
import { KEYS, MODELS, useEmulator } from '../support/emulator';
import { fakeExecute } from '../support/fakeExecute';

const ctx = useEmulator();
/** Another host: a gateway, or someone's server that should not see the node's keys. */
const other = new CaptureServer();
/** Where a redirect from `other` points: a third host. */
const third = new CaptureServer();
before(async () => {
	await other.start();
	await third.start();
});
after(async () => {
	await other.stop();
	await third.stop();
});
beforeEach(() => {
	other.reset();
	third.reset();
	ctx.emulator.loadScenario({});
});

const GATEWAY_KEY = ['gw', 'TESTKEY', 'gateway', '0123456789abcdef'].join('-');
const COMPATIBLE = 'resilientLlmOpenAiCompatibleApi';

function credentials(): Record<string, ICredentialDataDecryptedObject> {
	const urls = ctx.emulator.urls;
	return {
		resilientLlmAnthropicApi: { apiKey: KEYS.anthropic, baseUrl: urls.anthropic },
		resilientLlmOpenAiApi: { apiKey: KEYS.openai, baseUrl: urls.openai },
		resilientLlmGeminiApi: { apiKey: KEYS.gemini, baseUrl: urls.gemini },
		resilientLlmOllamaApi: { apiKey: KEYS.ollama, baseUrl: urls.ollama },
	};
}

const ALL_KEYS = [...Object.values(KEYS), GATEWAY_KEY];

function assertNoKeyReached(server: CaptureServer, what: string): void {
	const seen = server.headerText();
	for (const key of ALL_KEYS) assert.ok(!seen.includes(key), `${what} received ${key}`);
}

async function run(
	tiers: Array<Record<string, unknown>>,
	selected: Record<string, ICredentialDataDecryptedObject> = credentials(),
	options: Record<string, unknown> = {},
) {
	const context = fakeExecute({
		items: [{ text: 'hi' }],
		parameters: {
			prompt: 'hi',
			chain: { tiers },
			options: { initialBackoffMs: 5, circuitBreaker: false, ...options },
		},
		credentials: selected,
	}).context;
	return await new ResilientLlm().execute.call(context);
}

describe('at run time', () => {
	it("an OpenAI-Compatible tier on another host never gets the OpenAI credential's key", async () => {
		const outputs = await run([
			{
				provider: 'openai_compatible',
				model: 'gateway-model',
				attempts: 1,
				tierOptions: { baseUrl: `${other.url}/v1` },
			},
		]);
		assert.equal(outputs[0][0]?.json.text, 'Answer from the capture server.');
		assert.equal(other.requests.length, 1);
		assert.equal(other.requests[0].headers.authorization ?? '', '', 'no key at all');
		assertNoKeyReached(other, 'the gateway');
	});

	it("an OpenAI-Compatible tier sends its own credential's key, to its own host only", async () => {
		const outputs = await run([{ provider: 'openai_compatible', model: 'gateway-model' }], {
			...credentials(),
			[COMPATIBLE]: { apiKey: GATEWAY_KEY, baseUrl: `${other.url}/v1` },
		});
		assert.equal(outputs[0][0]?.json.text, 'Answer from the capture server.');
		assert.equal(other.requests[0].path, '/v1/chat/completions');
		assert.equal(other.requests[0].headers.authorization, `Bearer ${GATEWAY_KEY}`);
	});

	it('an OpenAI-Compatible credential without a key sends none, even with the OpenAI credential selected', async () => {
		await run([{ provider: 'openai_compatible', model: 'gateway-model' }], {
			...credentials(),
			[COMPATIBLE]: { apiKey: '', baseUrl: `${other.url}/v1` },
		});
		assert.equal(other.requests.length, 1);
		assertNoKeyReached(other, 'the keyless server');
	});

	const keyed: Array<[string, Record<string, ICredentialDataDecryptedObject>]> = [
		['anthropic', {}],
		['gemini', {}],
		['openai', {}],
		['ollama', {}],
		[
			'openai_compatible',
			{ [COMPATIBLE]: { apiKey: GATEWAY_KEY, baseUrl: 'http://127.0.0.1:9/v1' } },
		],
	];
	for (const [provider, extra] of keyed) {
		it(`a ${provider} tier whose Base URL leaves its credential's host is refused, naming the tier, before any call`, async () => {
			await assert.rejects(
				run(
					[
						{ provider: 'anthropic', model: MODELS.anthropic },
						{ provider, model: 'some-model', tierOptions: { baseUrl: `${other.url}/v1` } },
					],
					{ ...credentials(), ...extra },
				),
				(error: unknown) => {
					assert.ok(error instanceof NodeOperationError);
					assert.match(error.message, /Tier 2 › Tier Options › Base URL/);
					assert.match(error.message, /not on the host of the "Resilient LLM: [^"]+" credential/);
					for (const key of ALL_KEYS) assert.ok(!error.message.includes(key));
					return true;
				},
			);
			assert.equal(other.requests.length, 0, 'the other host was never called');
			assert.equal(ctx.emulator.stats().total, 0, 'no tier was called');
		});
	}

	it("a tier's Base URL may choose another path on its credential's host", async () => {
		const outputs = await run(
			[{ provider: 'openai', model: MODELS.openai, attempts: 1 }].map((t) => ({
				...t,
				tierOptions: { baseUrl: ctx.emulator.urls.openai },
			})),
			{
				...credentials(),
				resilientLlmOpenAiApi: {
					apiKey: KEYS.openai,
					baseUrl: `${ctx.emulator.baseUrl}/elsewhere`,
				},
			},
		);
		assert.equal(outputs[0][0]?.json.text, `Emulated answer from openai/${MODELS.openai}.`);
	});

	it('an Anthropic credential whose Base URL ends in /v1 reaches the API', async () => {
		const outputs = await run([{ provider: 'anthropic', model: MODELS.anthropic, attempts: 1 }], {
			...credentials(),
			resilientLlmAnthropicApi: { apiKey: KEYS.anthropic, baseUrl: `${ctx.emulator.baseUrl}/v1/` },
		});
		assert.equal(outputs[0][0]?.json.text, `Emulated answer from anthropic/${MODELS.anthropic}.`);
	});

	const redirectTo =
		(target: () => string): Answer =>
		(request, res) => {
			res.writeHead(307, { location: `${target()}${request.path}` });
			res.end();
		};
	for (const provider of ['anthropic', 'gemini', 'openai', 'ollama'] as const) {
		it(`a ${provider} call redirected to another host does not take the key there`, async () => {
			other.answerWith(redirectTo(() => third.url));
			const type = {
				anthropic: 'resilientLlmAnthropicApi',
				gemini: 'resilientLlmGeminiApi',
				openai: 'resilientLlmOpenAiApi',
				ollama: 'resilientLlmOllamaApi',
			}[provider];
			const outputs = await run([{ provider, model: MODELS[provider], attempts: 1 }], {
				[type]: {
					apiKey: KEYS[provider],
					baseUrl: provider === 'openai' ? `${other.url}/v1` : other.url,
				},
			});
			assert.equal(outputs[1].length, 1, 'the item needs a human: the call did not succeed');
			assert.ok(other.headerText().includes(KEYS[provider]), "the credential's host got the key");
			assertNoKeyReached(third, 'the redirect target');
		});
	}
});

const list = (tier: Record<string, unknown>, selected = credentials()) =>
	listModels.call(pickerContext(tier, selected));
const ids = (result: INodeListSearchResult) => result.results.map((r) => r.value);

describe('the model picker', () => {
	for (const provider of ['anthropic', 'gemini', 'openai', 'ollama']) {
		it(`a ${provider} tier's Base URL on another host is refused, and that host hears nothing`, async () => {
			await assert.rejects(
				list({ provider, tierOptions: { baseUrl: `${other.url}/v1` } }),
				/Base URL .*not on the host of the "Resilient LLM: [^"]+" credential/,
			);
			assert.equal(other.requests.length, 0);
		});
	}

	it("an OpenAI-Compatible tier on another host lists without the OpenAI credential's key", async () => {
		const result = await list({
			provider: 'openai_compatible',
			tierOptions: { baseUrl: `${other.url}/v1` },
		});
		assert.deepEqual(ids(result), ['gateway-model']);
		assert.equal(other.requests[0].path, '/v1/models');
		assertNoKeyReached(other, 'the gateway');
	});

	it('an OpenAI-Compatible tier lists with its own credential', async () => {
		const result = await list(
			{ provider: 'openai_compatible' },
			{ ...credentials(), [COMPATIBLE]: { apiKey: GATEWAY_KEY, baseUrl: `${other.url}/v1` } },
		);
		assert.deepEqual(ids(result), ['gateway-model']);
		assert.equal(other.requests[0].headers.authorization, `Bearer ${GATEWAY_KEY}`);
	});

	it('a Base URL that is not http(s), or carries a # or ?, is refused before any request', async () => {
		for (const baseUrl of [
			`${other.url}/private#`,
			`${other.url}/private?x=`,
			'data:application/json,{"data":[{"id":"from-a-data-url"}]}',
			'file:///etc/passwd',
		]) {
			await assert.rejects(
				list({ provider: 'openai_compatible', tierOptions: { baseUrl } }, {}),
				/Base URL/,
				baseUrl,
			);
		}
		assert.equal(other.requests.length, 0);
	});

	const redirectAway: Answer = (request, res) => {
		res.writeHead(302, { location: `${third.url}${request.path}` });
		res.end();
	};
	for (const [provider, type, header] of [
		['anthropic', 'resilientLlmAnthropicApi', 'x-api-key'],
		['gemini', 'resilientLlmGeminiApi', 'x-goog-api-key'],
		['openai', 'resilientLlmOpenAiApi', 'authorization'],
	] as const) {
		it(`a ${provider} model list redirected to another host does not take the key there`, async () => {
			other.answerWith(redirectAway);
			const key = KEYS[provider];
			await assert.rejects(
				list({ provider }, { [type]: { apiKey: key, baseUrl: other.url } }),
				/redirected to another host/,
			);
			assert.ok(String(other.requests[0].headers[header]).includes(key));
			assert.equal(third.requests.length, 0, 'the redirect was not followed');
		});
	}

	it('a redirect on the same host is followed', async () => {
		other.answerWith((request, res) => {
			if (request.path.startsWith('/old/')) {
				res.writeHead(301, { location: request.path.replace('/old/', '/new/') });
				res.end();
				return;
			}
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end(JSON.stringify({ data: [{ id: 'moved-model' }] }));
		});
		const result = await list(
			{ provider: 'openai' },
			{ resilientLlmOpenAiApi: { apiKey: KEYS.openai, baseUrl: `${other.url}/old/v1` } },
		);
		assert.deepEqual(ids(result), ['moved-model']);
		assert.deepEqual(
			other.requests.map((r) => r.path),
			['/old/v1/models', '/new/v1/models'],
		);
	});

	it('an error page is not echoed into the message', async () => {
		other.answerWith((_request, res) => {
			res.writeHead(502, { 'content-type': 'text/html' });
			res.end(`<html><body>INTERNAL-PAGE-CONTENT ${'x'.repeat(10_000)}</body></html>`);
		});
		await assert.rejects(
			list({ provider: 'openai_compatible', tierOptions: { baseUrl: other.url } }, {}),
			(error: Error) => {
				assert.match(error.message, /HTTP 502/);
				assert.doesNotMatch(error.message, /INTERNAL-PAGE-CONTENT/);
				return true;
			},
		);
	});

	it('an answer too large to be a model list is refused', async () => {
		other.answerWith((_request, res) => {
			res.writeHead(200, { 'content-type': 'application/json' });
			const entry = JSON.stringify({ id: 'm'.repeat(1000) });
			res.end(`{"data":[${Array.from({ length: 20_000 }, () => entry).join(',')}]}`);
		});
		await assert.rejects(
			list({ provider: 'openai_compatible', tierOptions: { baseUrl: other.url } }, {}),
			/too large/,
		);
	});

	it('an Anthropic credential whose Base URL ends in /v1 lists its models', async () => {
		const result = await list(
			{ provider: 'anthropic' },
			{
				resilientLlmAnthropicApi: { apiKey: KEYS.anthropic, baseUrl: `${ctx.emulator.baseUrl}/v1` },
			},
		);
		assert.ok(ids(result).includes(MODELS.anthropic), JSON.stringify(ids(result)));
	});
});
