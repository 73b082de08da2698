/**
 * The JSON Schema check on answers: formats are checked, not ignored, and no schema can hold
 * n8n's main thread longer than the check's time limit, whatever the model sends: the fence taken
 * off and the JSON parsed under the same limit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { ConfigError } from '../../lib/engine/configError';
import { FailoverChain } from '../../lib/engine/failoverChain';
import { ANSWER_CHECK_LIMIT_MS, buildJsonParser } from '../../lib/engine/jsonOutput';

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
			new RegExp(`took longer than ${ANSWER_CHECK_LIMIT_MS} ms`),
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

describe('Reading the answer', () => {
	const TOO_SLOW = new RegExp(`took longer than ${ANSWER_CHECK_LIMIT_MS} ms`);
	const NOT_JSON = /^the answer is not valid JSON$/;
	/** The outcome class of a reading: the answer, or why it was refused. */
	const outcome = (read: ReturnType<typeof buildJsonParser>, text: string) => {
		const result = read(text);
		return result.ok ? 'answer' : NOT_JSON.test(result.reason) ? 'not JSON' : result.reason;
	};

	it('a fence around JSON is taken off, with or without "json", in any case, and a fenceless answer is read as it is', () => {
		const read = buildJsonParser(undefined);
		for (const text of [
			'```json\n{"a": 1}\n```',
			'  ```JSON {"a": 1}```  ',
			'```\n{"a": 1}\n```\n',
			'{"a": 1}',
		]) {
			assert.deepEqual(read(text), { ok: true, value: { a: 1 } }, JSON.stringify(text));
		}
		assert.equal(outcome(read, '```json\n{"a": 1}\n``` and more'), 'not JSON');
		assert.equal(outcome(read, '``````'), 'not JSON');
	});

	it('a million characters of fences and whitespace get an answer or a refusal, not a stall', () => {
		// Through a regular expression, "```" and 100,000 spaces held the thread for most of
		// a second, a million characters for over a minute, on every try.
		const spaces = ' '.repeat(1_000_000);
		const newlines = '\n'.repeat(1_000_000);
		const fences = '```'.repeat(333_333);
		for (const schema of [undefined, CONTACT]) {
			const read = buildJsonParser(schema);
			for (const [text, expected] of [
				[`\`\`\`${spaces}`, 'not JSON'],
				[`\`\`\`json${newlines}x`, 'not JSON'],
				[fences, 'not JSON'],
				[`\`\`\`json${spaces}{"email": "ana@example.com"}${spaces}\`\`\``, 'answer'],
			] as const) {
				const got = outcome(read, text);
				// Under load the time limit may cut a reading short; then it says so.
				if (TOO_SLOW.test(got)) continue;
				assert.equal(got, expected, `${text.slice(0, 10)}… (${text.length} characters)`);
			}
		}
	});

	it('parsing the JSON runs under the same time limit as the schema check', () => {
		const read = buildJsonParser(undefined);
		const parse = JSON.parse;
		// A parse that outlasts the limit many times over, then answers.
		JSON.parse = (text: string) => {
			const until = Date.now() + 20 * ANSWER_CHECK_LIMIT_MS;
			while (Date.now() < until);
			return parse(text) as unknown;
		};
		try {
			const slow = read('{"a": 1}');
			assert.equal(slow.ok, false);
			assert.match(slow.ok ? '' : slow.reason, TOO_SLOW);
		} finally {
			JSON.parse = parse;
		}
		assert.deepEqual(read('{"a": 1}'), { ok: true, value: { a: 1 } });
	});
});
