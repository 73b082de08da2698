/**
 * The JSON Schema check on answers: formats are checked, not ignored, and no schema can hold
 * n8n's main thread longer than the check's time limit, whatever the model sends.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ConfigError } from '../../lib/engine/configError';
import { FailoverChain } from '../../lib/engine/failoverChain';
import { SCHEMA_CHECK_LIMIT_MS, buildJsonParser } from '../../lib/engine/jsonOutput';

const CONTACT = {
	type: 'object',
	properties: {
		email: { type: 'string', format: 'email' },
		when: { type: 'string', format: 'date-time' },
	},
};

/** A pattern that backtracks catastrophically on a string of a's that does not end in a. */
const EVIL = { type: 'object', properties: { code: { type: 'string', pattern: '^(a+)+$' } } };
/** Seconds unbounded, doubling with every further character. */
const EVIL_ANSWER = JSON.stringify({ code: `${'a'.repeat(27)}!` });

describe('JSON Schema formats', () => {
	it('"not an email" fails format: email; a real address and date pass', () => {
		const parse = buildJsonParser(CONTACT);
		const bad = parse('{"email": "not an email", "when": "2026-11-27T12:00:00Z"}');
		assert.equal(bad.ok, false);
		assert.match(!bad.ok ? bad.reason : '', /must match format "email"/);
		assert.equal(parse('{"email": "ana@example.com", "when": "yesterday"}').ok, false);
		assert.deepEqual(parse('{"email": "ana@example.com", "when": "2026-11-27T12:00:00Z"}'), {
			ok: true,
			value: { email: 'ana@example.com', when: '2026-11-27T12:00:00Z' },
		});
	});

	it('a format the node cannot check is a configuration error, not silently ignored', () => {
		assert.throws(
			() => buildJsonParser({ type: 'string', format: 'currency' }),
			(error: unknown) =>
				error instanceof ConfigError &&
				error.field === 'output.jsonSchema' &&
				/unknown format "currency"/.test(error.message) &&
				/Known formats: .*email/.test(error.message),
		);
	});
});

describe('JSON Schema patterns', () => {
	it('a catastrophically backtracking pattern is cut off at the time limit and fails the answer', () => {
		const parse = buildJsonParser(EVIL);
		// Unchecked, this pattern runs for seconds to minutes; the reason below is only given
		// when the time limit stopped the check.
		const checked = parse(EVIL_ANSWER);
		assert.equal(checked.ok, false);
		assert.match(
			checked.ok ? '' : checked.reason,
			new RegExp(`took longer than ${SCHEMA_CHECK_LIMIT_MS} ms`),
		);
		// Ordinary answers under the same schema are checked as before.
		assert.equal(parse('{"code": "aaaa"}').ok, true);
		assert.equal(parse('{"code": "b"}').ok, false);
	});

	it('inside a task, the slow check is a failed try like any invalid answer, and the next tier answers', async () => {
		const chain = new FailoverChain(
			{
				tiers: [
					{ provider: 'openai', model: 'gpt-4o-mini', apiKey: 'sk-test-1', attempts: 2 },
					{ provider: 'anthropic', model: 'claude-haiku-4-5', apiKey: 'sk-ant-t', attempts: 1 },
				],
				output: { json: true, jsonSchema: EVIL },
				backoff: { initialDelayMs: 1 },
				deadlineMs: 10_000,
			},
			{
				adapterFor: (tier) => ({
					provider: tier.provider,
					complete: async () => ({
						text: tier.provider === 'openai' ? EVIL_ANSWER : '{"code": "aaa"}',
						finish: 'stop' as const,
						usage: { inputTokens: 1, outputTokens: 1 },
						model: tier.model,
					}),
				}),
			},
		);
		const result = await chain.run({ prompt: 'Give me a code' });
		assert.equal(result.tier, 2);
		assert.deepEqual(result.json, { code: 'aaa' });
		assert.deepEqual(
			result.attempts.map((a) => a.errorClass),
			['invalid_output', 'invalid_output', undefined],
		);
	});
});
