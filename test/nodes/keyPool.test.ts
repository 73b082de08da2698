/**
 * A credential's Additional API Keys make its tiers key pools: mapped to the engine's
 * poolKeys, kept to the credential's host like its API Key, and never shown.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { INodeProperties } from 'n8n-workflow';

import { ResilientLlmAnthropicApi } from '../../credentials/ResilientLlmAnthropicApi.credentials';
import { ResilientLlmGeminiApi } from '../../credentials/ResilientLlmGeminiApi.credentials';
import { ResilientLlmOllamaApi } from '../../credentials/ResilientLlmOllamaApi.credentials';
import { ResilientLlmOpenAiApi } from '../../credentials/ResilientLlmOpenAiApi.credentials';
import { ResilientLlmOpenAiCompatibleApi } from '../../credentials/ResilientLlmOpenAiCompatibleApi.credentials';
import { tierEndpoint } from '../../lib/engine/tierEndpoint';
import { ResilientLlm } from '../../nodes/ResilientLlm/ResilientLlm.node.ts';
import { KEYS, MODELS, useEmulator } from '../support/emulator';
import { fakeExecute } from '../support/fakeExecute';

const ctx = useEmulator();

const KEY_B = ['sk-proj', 'TESTKEY', 'second', 'fedcba9876543210'].join('-');
const KEY_C = ['sk-proj', 'TESTKEY', 'third', '0011223344556677'].join('-');
const OPENAI = { defaultBaseUrl: 'https://api.openai.com/v1' };

describe('Additional API Keys', () => {
	it('are on every credential that takes an API key, as a masked list; the Ollama credential has none', () => {
		const credentials = [
			new ResilientLlmAnthropicApi(),
			new ResilientLlmOpenAiApi(),
			new ResilientLlmOpenAiCompatibleApi(),
			new ResilientLlmGeminiApi(),
		];
		for (const credential of credentials) {
			const field = credential.properties.find(
				(p: INodeProperties) => p.name === 'additionalApiKeys',
			);
			assert.ok(field, `${credential.name} has Additional API Keys`);
			assert.equal(field.displayName, 'Additional API Keys');
			assert.equal(field.typeOptions?.password, true, 'masked like the API Key');
			assert.equal(field.required, undefined);
			assert.doesNotMatch(
				JSON.stringify(credential.test),
				/additionalApiKeys/,
				'the test checks the API Key',
			);
		}
		assert.ok(!new ResilientLlmOllamaApi().properties.some((p) => p.name === 'additionalApiKeys'));
	});

	it('become the pool keys after the API Key: parted by lines, commas or spaces, trimmed, each once', () => {
		const endpoint = tierEndpoint(
			'tiers[0].baseUrl',
			OPENAI,
			'OpenAI',
			{
				apiKey: KEYS.openai,
				additionalApiKeys: `${KEY_B}\r\n\n  ${KEYS.openai} , ${KEY_C}; \n${KEY_B}\n`,
			},
			undefined,
		);
		assert.deepEqual(endpoint, {
			apiKey: KEYS.openai,
			poolKeys: [KEY_B, KEY_C],
			baseUrl: OPENAI.defaultBaseUrl,
		});
		assert.deepEqual(
			tierEndpoint(
				'tiers[0].baseUrl',
				OPENAI,
				'OpenAI',
				{ apiKey: KEYS.openai, additionalApiKeys: '\n' },
				undefined,
			),
			{ apiKey: KEYS.openai, baseUrl: OPENAI.defaultBaseUrl },
			'no pool without additional keys',
		);
	});

	it('go only where the API Key goes: a keyless tier elsewhere takes none of them', () => {
		const endpoint = tierEndpoint(
			'tiers[0].baseUrl',
			OPENAI,
			'OpenAI-Compatible',
			{ apiKey: KEYS.openai, additionalApiKeys: KEY_B, baseUrl: 'https://gateway.example/v1' },
			'http://127.0.0.1:11434',
			true,
		);
		assert.deepEqual(endpoint, { baseUrl: 'http://127.0.0.1:11434' });
	});

	it('make the tier a pool: a rejected API Key leaves the item to the next key, named by position only', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ apiKeys: { openai: KEY_C } });
		const run = fakeExecute({
			items: [{ text: 'hi' }],
			parameters: {
				prompt: 'hi',
				chain: { tiers: [{ provider: 'openai', model: MODELS.openai, attempts: 3 }] },
				options: { initialBackoffMs: 5 },
			},
			credentials: {
				resilientLlmOpenAiApi: {
					apiKey: KEYS.openai,
					additionalApiKeys: `${KEY_B}\n${KEY_C}`,
					baseUrl: emulator.urls.openai,
				},
			},
		});
		const outputs = await new ResilientLlm().execute.call(run.context);
		const item = outputs[0][0]?.json;
		assert.equal(item?.text, `Emulated answer from openai/${MODELS.openai}.`);
		const resilience = item?.resilience as {
			attempts: Array<{ key?: number; errorClass?: string; waitedMs: number }>;
			tiers: Array<{ key?: number }>;
		};
		assert.deepEqual(
			resilience.attempts.map((a) => [a.key, a.errorClass, a.waitedMs]),
			[
				[1, 'auth', 0],
				[2, 'auth', 0],
				[3, undefined, 0],
			],
		);
		assert.equal(resilience.tiers[0].key, 3);
		const shown = JSON.stringify([outputs, run.logs]);
		for (const key of [KEYS.openai, KEY_B, KEY_C]) assert.ok(!shown.includes(key.slice(0, 20)));
	});
});
