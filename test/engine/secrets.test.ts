/** No API key, and no password in a base URL, appears in any result, error message or log line. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { classifyError } from '../../lib/engine/classifyError';
import { ConfigError } from '../../lib/engine/configError';
import { FailoverChain } from '../../lib/engine/failoverChain';
import { KEYS, WIRE_PROVIDERS, tier, useEmulator } from '../support/emulator';

const ctx = useEmulator();
const SECRETS = Object.values(KEYS);

function assertNoSecret(text: string, where: string): void {
	for (const secret of SECRETS) {
		assert.ok(!text.includes(secret), `${where} contains an API key`);
		// A recognisable fragment is a leak too.
		assert.ok(!text.includes(secret.slice(0, 16)), `${where} contains part of an API key`);
	}
}

describe('secrets', () => {
	it('stay out of results and log lines when every provider rejects the key', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({
			apiKeys: { anthropic: 'other', openai: 'other', gemini: 'other', ollama: 'other' },
		});
		const lines: string[] = [];
		const chain = new FailoverChain(
			{ tiers: WIRE_PROVIDERS.map((p) => tier(emulator, p)) },
			{
				events: {
					onAttempt: (a) => lines.push(JSON.stringify(a)),
					onResult: (r) => lines.push(JSON.stringify(r)),
				},
			},
		);
		const result = await chain.run({ prompt: 'Hello' });
		assert.equal(result.outcome, 'needs_human');
		assert.deepEqual(
			result.attempts.map((a) => a.errorClass),
			['auth', 'auth', 'auth', 'auth'],
		);
		assertNoSecret(JSON.stringify(result), 'the result');
		assertNoSecret(result.reasonText, 'the reason');
		assert.equal(lines.length, 5);
		lines.forEach((line, i) => assertNoSecret(line, `log line ${i}`));
	});

	it('are cut out of an error message that echoes them', async () => {
		const chain = new FailoverChain(
			{ tiers: [{ provider: 'openai', model: 'gpt-4o-mini', apiKey: KEYS.openai, attempts: 1 }] },
			{
				adapterFor: () => ({
					provider: 'openai',
					complete: async () => {
						throw new Error(
							`proxy refused key ${KEYS.openai} and ${KEYS.gemini} at https://example.invalid/?key=${KEYS.gemini}`,
						);
					},
				}),
			},
		);
		const result = await chain.run({ prompt: 'Hello' });
		assert.match(result.attempts[0].message ?? '', /\[redacted\]/);
		assertNoSecret(JSON.stringify(result), 'the result');
	});

	it('a base URL with a user name and password is refused without echoing the password', () => {
		for (const [provider, baseUrl] of [
			['ollama', 'https://ana:hunter2-SECRET@ollama.example'],
			['gemini', 'https://ana:hunter2-SECRET@gateway.example/v1beta'],
			['ollama', 'htps//ana:hunter2-SECRET@ollama.example'],
		] as const) {
			assert.throws(
				() =>
					new FailoverChain({
						tiers: [{ provider, model: 'm', apiKey: KEYS.gemini, baseUrl }],
					}),
				(error: unknown) =>
					error instanceof ConfigError &&
					error.field === 'tiers[0].baseUrl' &&
					!error.message.includes('hunter2'),
				baseUrl,
			);
		}
	});

	it('a password in a URL that an error message quotes is cut out', async () => {
		const url = 'http://ana:hunter2-SECRET@ollama.example:11434/api/chat';
		const chain = new FailoverChain(
			{ tiers: [{ provider: 'ollama', model: 'llama3.2', attempts: 1 }] },
			{
				adapterFor: () => ({
					provider: 'ollama',
					complete: async () => {
						// What Node's fetch says about such a URL.
						throw new TypeError(
							`Request cannot be constructed from a URL that includes credentials: ${url}`,
						);
					},
				}),
			},
		);
		const result = await chain.run({ prompt: 'Hello' });
		assert.ok(!JSON.stringify(result).includes('hunter2'), 'the result has the password');
		assert.match(result.attempts[0].message ?? '', /http:\/\/\[redacted\]@ollama\.example/);
		for (const error of [
			new Error(`getaddrinfo ENOTFOUND for ${url}`),
			Object.assign(new Error(`upstream said no at ${url}`), { status: 502, body: {} }),
		]) {
			const failure = classifyError('gemini', error);
			assert.ok(!failure.message.includes('hunter2'), failure.message);
		}
	});

	it('never appear in configuration errors', () => {
		for (const bad of [{ timeoutMs: -1 }, { baseUrl: 'not a url' }, { attempts: 0.5 }]) {
			try {
				new FailoverChain({
					tiers: [{ provider: 'anthropic', model: 'm', apiKey: KEYS.anthropic, ...bad }],
				});
				assert.fail('expected a ConfigError');
			} catch (error) {
				assert.ok(error instanceof ConfigError);
				assertNoSecret(error.message, 'the error');
			}
		}
	});
});
