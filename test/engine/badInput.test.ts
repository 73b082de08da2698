/** A chain or task that cannot run is refused before any call, naming the field. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ConfigError } from '../../lib/engine/configError';
import { FailoverChain } from '../../lib/engine/failoverChain';
import type { ChainConfig } from '../../lib/engine/types';
import { tier, useEmulator } from '../support/emulator';

const ctx = useEmulator();

function refused(config: unknown, field: string, message: RegExp): void {
	assert.throws(
		() => new FailoverChain(config as ChainConfig),
		(error: unknown) =>
			error instanceof ConfigError && error.field === field && message.test(error.message),
		`expected a ConfigError on ${field}`,
	);
}

describe('bad configuration', () => {
	const ok = { provider: 'anthropic', model: 'claude-haiku-4-5', apiKey: 'k' };

	it('a chain with no tiers', () => {
		refused({ tiers: [] }, 'tiers', /at least one model tier/);
		refused({}, 'tiers', /at least one/);
	});
	it('an unknown provider', () =>
		refused(
			{ tiers: [ok, { ...ok, provider: 'mistral' }] },
			'tiers[1].provider',
			/unknown provider "mistral"/,
		));
	it('a missing model or key', () => {
		refused({ tiers: [{ ...ok, model: ' ' }] }, 'tiers[0].model', /name the model/);
		refused({ tiers: [{ ...ok, apiKey: '' }] }, 'tiers[0].apiKey', /anthropic needs an API key/);
	});
	it('a non-positive timeout, deadline or attempt count', () => {
		refused({ tiers: [{ ...ok, timeoutMs: 0 }] }, 'tiers[0].timeoutMs', /positive number, got 0/);
		refused({ tiers: [{ ...ok, timeoutMs: 'soon' }] }, 'tiers[0].timeoutMs', /positive/);
		refused({ tiers: [ok], deadlineMs: -5 }, 'deadlineMs', /positive number, got -5/);
		refused({ tiers: [{ ...ok, attempts: 0 }] }, 'tiers[0].attempts', /positive whole number/);
	});
	it('an invalid JSON schema', () => {
		refused(
			{
				tiers: [ok],
				output: { jsonSchema: { type: 'object', properties: { a: { type: 'strnig' } } } },
			},
			'output.jsonSchema',
			/not a valid JSON Schema/,
		);
		refused(
			{ tiers: [ok], output: { jsonSchema: 'object' } },
			'output.jsonSchema',
			/must be a JSON Schema object/,
		);
	});
	it('other settings out of range', () => {
		refused({ tiers: [ok], temperature: 3 }, 'temperature', /between 0 and 2/);
		refused({ tiers: [ok], criticality: 'urgent' }, 'criticality', /standard/);
		refused({ tiers: [{ ...ok, baseUrl: 'localhost:8080' }] }, 'tiers[0].baseUrl', /not a URL/);
		refused(
			{ tiers: [{ ...ok, price: { inputPerMTok: -1, outputPerMTok: 1 } }] },
			'tiers[0].price.inputPerMTok',
			/zero or more/,
		);
	});

	it('an empty or missing prompt is refused before any call', async () => {
		const { emulator } = ctx;
		emulator.resetCounts();
		const chain = new FailoverChain({ tiers: [tier(emulator, 'anthropic')] });
		for (const task of [{ prompt: '' }, { prompt: '   ' }, {}, { prompt: { text: 'hi' } }]) {
			await assert.rejects(
				chain.run(task as never),
				(e: unknown) => e instanceof ConfigError && e.field === 'prompt',
			);
		}
		assert.equal(emulator.stats().total, 0, 'no provider was called');
	});
});
