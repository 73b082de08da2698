/**
 * The credentials' own tests, as n8n runs them when a credential is saved: the test request
 * and the authenticate headers resolved against the credential's fields, then sent. The
 * expressions are evaluated as plain JavaScript, which is what n8n's `{{ }}` hold.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { ICredentialDataDecryptedObject, ICredentialType } from 'n8n-workflow';

import { ResilientLlmAnthropicApi } from '../../credentials/ResilientLlmAnthropicApi.credentials';
import { ResilientLlmOpenAiCompatibleApi } from '../../credentials/ResilientLlmOpenAiCompatibleApi.credentials';
import { CaptureServer } from '../support/captureServer';
import { KEYS, MODELS, useEmulator } from '../support/emulator';

const ctx = useEmulator();
const server = new CaptureServer();
before(async () => {
	await server.start();
});
after(async () => {
	await server.stop();
});

/** An n8n parameter value: text, or `=` followed by text with `{{ }}` expressions. */
function resolve(value: string, credentials: ICredentialDataDecryptedObject): string {
	if (!value.startsWith('=')) return value;
	return value.slice(1).replace(/\{\{(.+?)\}\}(?!\})/g, (_all, code: string) => {
		const evaluate = new Function('$credentials', `return (${code});`) as (
			c: ICredentialDataDecryptedObject,
		) => unknown;
		return String(evaluate(credentials));
	});
}

/** Sends the credential's test request as n8n would, with its authenticate headers. */
async function runCredentialTest(
	type: ICredentialType,
	credentials: ICredentialDataDecryptedObject,
): Promise<{ url: string; status: number; body: string }> {
	const request = type.test?.request;
	assert.ok(request?.baseURL && request.url, `${type.name} has a test request`);
	const url = `${resolve(request.baseURL, credentials)}${resolve(request.url, credentials)}`;
	const authenticate = type.authenticate as { properties: { headers?: Record<string, string> } };
	const headers = Object.fromEntries(
		Object.entries(authenticate.properties.headers ?? {})
			.map(([name, value]) => [name, resolve(value, credentials)])
			.filter(([, value]) => value !== ''),
	);
	const response = await fetch(url, { method: request.method ?? 'GET', headers });
	return { url, status: response.status, body: await response.text() };
}

describe('the credential tests', () => {
	for (const suffix of ['', '/', '/v1', '/v1/']) {
		it(`Anthropic: a Base URL with "${suffix}" at the end passes`, async () => {
			ctx.emulator.loadScenario({ apiKeys: KEYS });
			const result = await runCredentialTest(new ResilientLlmAnthropicApi(), {
				apiKey: KEYS.anthropic,
				baseUrl: `${ctx.emulator.baseUrl}${suffix}`,
			});
			assert.equal(result.url, `${ctx.emulator.baseUrl}/v1/models`);
			assert.equal(result.status, 200, result.body);
			assert.ok(result.body.includes(MODELS.anthropic));
		});
	}

	it("OpenAI-Compatible: the key goes to the credential's own Base URL", async () => {
		server.reset();
		const result = await runCredentialTest(new ResilientLlmOpenAiCompatibleApi(), {
			apiKey: 'gw-TESTKEY-credential-test',
			baseUrl: `${server.url}/v1/`,
		});
		assert.equal(result.status, 200);
		assert.deepEqual(
			server.requests.map((r) => [r.path, r.headers.authorization]),
			[['/v1/models', 'Bearer gw-TESTKEY-credential-test']],
		);
	});

	it('OpenAI-Compatible: a server without a key gets no Authorization header', async () => {
		server.reset();
		const result = await runCredentialTest(new ResilientLlmOpenAiCompatibleApi(), {
			apiKey: '',
			baseUrl: `${server.url}/v1`,
		});
		assert.equal(result.status, 200);
		assert.equal(server.requests[0].headers.authorization, undefined);
	});
});
