/**
 * The emulator's per-key rate limits, as each official SDK meets them: calls over a limit get
 * the provider's own 429 naming it, every answer carries the provider's rate-limit headers
 * (read back by the project's own readers), keys have buckets of their own, token limits go
 * into debt and refill, and bad limits are refused naming the field.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import Anthropic from '@anthropic-ai/sdk';
import { ApiError, GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';

import { classifyError } from '../../lib/engine/classifyError';
import { RateLimits } from '../../lib/emulator/limits';
import { parseScenario } from '../../lib/emulator/scenario';
import type { Scenario } from '../../lib/emulator/scenario';
import { keyHash } from '../../lib/emulator/tally';
import { readAnthropicLimits } from '../../lib/providers/anthropic/rateLimits';
import { readOpenAiLimits } from '../../lib/providers/openai/rateLimits';
import { KEYS, MODELS, useEmulator } from '../support/emulator';

const ctx = useEmulator();

const ASK = [{ role: 'user' as const, content: 'Say hi.' }];
const REPLY = 'A short answer.';

function load(scenario: Scenario): void {
	ctx.emulator.loadScenario({ reply: REPLY, ...scenario });
	ctx.emulator.resetCounts();
}

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function openai(apiKey: string = KEYS.openai): OpenAI {
	return new OpenAI({ apiKey, baseURL: ctx.emulator.urls.openai, maxRetries: 0, timeout: 5_000 });
}

/** One OpenAI call: its headers and usage, or the SDK's error. */
async function askOpenAi(client: OpenAI, content = 'Say hi.', stream = false) {
	try {
		if (stream) {
			const { data, response } = await client.chat.completions
				.create({ model: MODELS.openai, messages: [{ role: 'user', content }], stream: true })
				.withResponse();
			for await (const chunk of data) void chunk;
			return { headers: response.headers };
		}
		const { data, response } = await client.chat.completions
			.create({ model: MODELS.openai, messages: [{ role: 'user', content }] })
			.withResponse();
		return { headers: response.headers, usage: data.usage };
	} catch (error) {
		assert.ok(error instanceof OpenAI.APIError, String(error));
		return { headers: error.headers, error };
	}
}

async function askAnthropic(client: Anthropic) {
	try {
		const { response } = await client.messages
			.create({ model: MODELS.anthropic, max_tokens: 50, messages: ASK })
			.withResponse();
		return { headers: response.headers };
	} catch (error) {
		assert.ok(error instanceof Anthropic.APIError, String(error));
		return { headers: error.headers, error };
	}
}

describe('rate limits: OpenAI', () => {
	it('two calls fit a burst of 2, the third is a 429 naming RPM, and every answer says what is left', async () => {
		load({ limits: [{ provider: 'openai', rpm: 120, burstSeconds: 1 }] });
		const client = openai();
		const answers = [await askOpenAi(client), await askOpenAi(client, 'Say hi.', true)];
		const refused = await askOpenAi(client);
		assert.deepEqual(
			answers.map((a) => a.error),
			[undefined, undefined],
		);
		const error = refused.error;
		assert.ok(error, 'the third call is refused');
		assert.equal(error.status, 429);
		assert.equal(error.code, 'rate_limit_exceeded');
		assert.equal(error.type, 'requests');
		assert.match(
			error.message,
			/Rate limit reached for gpt-4o-mini in organization org-emulator on requests per min \(RPM\): Limit 120, Used \d+, Requested 1\. Please try again in \d+ms\./,
		);
		assert.ok(Number(refused.headers?.get('retry-after-ms')) > 0);
		const readings = [...answers, refused].map((a) => readOpenAiLimits(a.headers));
		assert.deepEqual(
			readings.map((r) => [r?.requests?.limit, r?.requests?.remaining]),
			[
				[120, 1],
				[120, 0],
				[120, 0],
			],
		);
		assert.equal(readings[2]?.tokens, undefined, 'no tokens limit, no tokens headers');
		assert.ok((readings[2]?.requests?.resetMs ?? 0) > 0);
		assert.equal(ctx.emulator.stats().limited, 1);

		await wait(600);
		const again = await askOpenAi(client);
		assert.equal(again.error, undefined, 'a request refilled');
		assert.equal(readOpenAiLimits(again.headers)?.requests?.remaining, 0);
	});

	it('a tokens limit goes into debt for a large call, refuses the next as TPM until refilled', async () => {
		// 10 tokens when full, 100 a second back.
		load({ limits: [{ provider: 'openai', tpm: 6000, burstSeconds: 0.1 }] });
		const client = openai();
		const large = await askOpenAi(client, 'word '.repeat(60));
		assert.equal(large.error, undefined, 'a call is let through while the bucket is not empty');
		assert.equal(readOpenAiLimits(large.headers)?.tokens?.remaining, 0);
		const refused = await askOpenAi(client);
		const error = refused.error;
		assert.ok(error, 'the bucket is in debt');
		assert.equal(error.status, 429);
		assert.equal(error.type, 'tokens');
		assert.match(error.message, /on tokens per min \(TPM\): Limit 6000, Used \d+, Requested \d+\./);
		const hintMs = Number(refused.headers?.get('retry-after-ms'));
		assert.ok(hintMs > 0);
		await wait(hintMs + 20);
		assert.equal((await askOpenAi(client)).error, undefined, 'the debt refilled');
		assert.equal(ctx.emulator.stats().limited, 1);
	});

	it('a call is charged its input and output tokens', async () => {
		// 1000 tokens when full, 10 a second back: under a token back within the call.
		load({ limits: [{ provider: 'openai', tpm: 600, burstSeconds: 100 }] });
		const answered = await askOpenAi(openai(), 'Count the words in this sentence.');
		const total = answered.usage?.total_tokens ?? 0;
		assert.ok((answered.usage?.completion_tokens ?? 0) > 0);
		assert.deepEqual(readOpenAiLimits(answered.headers)?.tokens?.remaining, 1000 - total);
	});
});

describe('rate limits: Anthropic', () => {
	it('two calls fit, the third is a rate_limit_error with retry-after in whole seconds', async () => {
		load({ limits: [{ provider: 'anthropic', rpm: 120, burstSeconds: 1 }] });
		const client = new Anthropic({
			apiKey: KEYS.anthropic,
			baseURL: ctx.emulator.urls.anthropic,
			maxRetries: 0,
			timeout: 5_000,
		});
		const calls = [await askAnthropic(client), await askAnthropic(client)];
		const refused = await askAnthropic(client);
		assert.deepEqual(
			calls.map((c) => c.error),
			[undefined, undefined],
		);
		const error = refused.error;
		assert.ok(error instanceof Anthropic.RateLimitError, String(error));
		assert.deepEqual(
			(error.error as { error?: { type?: string } }).error?.type,
			'rate_limit_error',
		);
		assert.match(
			error.message,
			/This request would exceed your organization's rate limit of 120 requests per minute/,
		);
		assert.equal(refused.headers?.get('retry-after'), '1', 'rounded up to a whole second');
		const readings = [...calls, refused].map((c) => readAnthropicLimits(c.headers));
		assert.deepEqual(
			readings.map((r) => [r?.requests?.limit, r?.requests?.remaining]),
			[
				[120, 1],
				[120, 0],
				[120, 0],
			],
		);
		await wait(600);
		assert.equal((await askAnthropic(client)).error, undefined, 'a request refilled');
	});

	it('limits come before the rules, and a rule’s error carries the headers too', async () => {
		load({
			limits: [{ provider: 'anthropic', rpm: 60 }],
			rules: [{ provider: 'anthropic', fault: 'overloaded' }],
		});
		const client = new Anthropic({
			apiKey: KEYS.anthropic,
			baseURL: ctx.emulator.urls.anthropic,
			maxRetries: 0,
		});
		const first = await askAnthropic(client);
		const second = await askAnthropic(client);
		assert.deepEqual([first.error?.status, second.error?.status], [529, 429]);
		assert.equal(readAnthropicLimits(first.headers)?.requests?.remaining, 0);
		assert.equal(readAnthropicLimits(first.headers)?.requests?.limit, 60);
	});
});

describe('rate limits: per key', () => {
	it('each key has buckets of its own', async () => {
		load({ limits: [{ provider: 'openai', rpm: 60 }] });
		const a = openai('sk-proj-KEY-A');
		const b = openai('sk-proj-KEY-B');
		const statuses = [
			(await askOpenAi(a)).error?.status ?? 200,
			(await askOpenAi(a)).error?.status ?? 200,
			(await askOpenAi(b)).error?.status ?? 200,
		];
		assert.deepEqual(statuses, [200, 429, 200]);
		const stats = ctx.emulator.stats();
		assert.equal(stats.limited, 1);
		assert.deepEqual(stats.limitedByKey, { [keyHash('sk-proj-KEY-A')]: 1 });
		assert.ok(!JSON.stringify(stats).includes('KEY-A'), 'counted under a hash, not the key');
	});

	it('an entry with a key covers only that key', async () => {
		load({ limits: [{ provider: 'openai', key: 'sk-proj-KEY-A', rpm: 60 }] });
		const a = openai('sk-proj-KEY-A');
		const b = openai('sk-proj-KEY-B');
		const aStatuses = [await askOpenAi(a), await askOpenAi(a)].map((r) => r.error?.status ?? 200);
		const bCalls = [await askOpenAi(b), await askOpenAi(b), await askOpenAi(b)];
		assert.deepEqual(aStatuses, [200, 429]);
		assert.deepEqual(
			bCalls.map((r) => r.error?.status ?? 200),
			[200, 200, 200],
		);
		assert.equal(readOpenAiLimits(bCalls[0].headers), undefined, 'no limit covers key B');
	});

	it('loading a scenario starts its limits afresh', async () => {
		const scenario = { limits: [{ provider: 'openai' as const, rpm: 60 }] };
		load(scenario);
		const client = openai();
		await askOpenAi(client);
		assert.equal((await askOpenAi(client)).error?.status, 429);
		load(scenario);
		assert.equal((await askOpenAi(client)).error, undefined);
	});
});

describe('rate limits: Gemini and Ollama', () => {
	it('Gemini: a 429 with QuotaFailure and RetryInfo, classified rate_limited with a retry hint', async () => {
		load({ limits: [{ provider: 'gemini', rpm: 60 }] });
		const client = new GoogleGenAI({
			apiKey: KEYS.gemini,
			httpOptions: { baseUrl: ctx.emulator.urls.gemini },
		});
		const ask = () =>
			client.models.generateContent({ model: MODELS.gemini, contents: 'Say hi.' }).then(
				() => undefined,
				(e: unknown) => e,
			);
		assert.equal(await ask(), undefined);
		const error = await ask();
		assert.ok(error instanceof ApiError, String(error));
		assert.equal(error.status, 429);
		assert.match(error.message, /RESOURCE_EXHAUSTED/);
		assert.match(error.message, /generativelanguage\.googleapis\.com\/generate_content_requests/);
		assert.match(error.message, /"quotaValue":"60"/);
		const classified = classifyError('gemini', error);
		assert.equal(classified.errorClass, 'rate_limited');
		assert.equal(classified.retryHint?.source, 'gemini-retry-info');
		assert.ok((classified.retryHint?.ms ?? 0) > 0 && (classified.retryHint?.ms ?? 0) <= 1000);
	});

	it('Ollama: its plain 429, with retry-after and no limit headers', async () => {
		load({ limits: [{ provider: 'ollama', rpm: 60 }] });
		const ask = () =>
			fetch(`${ctx.emulator.baseUrl}/api/chat`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify({ model: MODELS.ollama, messages: ASK, stream: false }),
				signal: AbortSignal.timeout(5_000),
			});
		assert.equal((await ask()).status, 200);
		const refused = await ask();
		assert.equal(refused.status, 429);
		assert.deepEqual(await refused.json(), {
			error: 'too many requests, please try again later',
		});
		assert.equal(refused.headers.get('retry-after'), '1');
		const names: string[] = [];
		refused.headers.forEach((_value, name) => names.push(name));
		assert.ok(names.includes('retry-after'));
		assert.equal(
			names.some((name) => name.includes('ratelimit')),
			false,
		);
	});
});

describe('rate limits: buckets on exact instants', () => {
	it('a request bucket refills at rpm/60 a second, and the hint says when', () => {
		const limits = new RateLimits([{ rpm: 120 }]);
		const admit = (now: number) => limits.admit('openai', 'm', 'k', 10, now);
		assert.equal(admit(0)?.refused, undefined);
		assert.equal(admit(0)?.refused, undefined);
		const refused = admit(0)?.refused;
		assert.deepEqual(refused, {
			kind: 'requests',
			limit: 120,
			used: 120,
			requested: 1,
			retryAfterMs: 500,
		});
		assert.notEqual(admit(499)?.refused, undefined);
		assert.equal(admit(501)?.refused, undefined, 'a request back after 500 ms');
	});

	it('the state written: remaining in the limit’s units, and the time until full', () => {
		const limits = new RateLimits([{ model: 'gpt-*', rpm: 600, tpm: 60_000, burstSeconds: 2 }]);
		const admission = limits.admit('openai', 'gpt-4o', 'k', 100, 0);
		assert.deepEqual(admission?.charge(50, 0), {
			// 20 requests and 2000 tokens when full.
			requests: { limit: 600, remaining: 19, resetMs: 100 },
			tokens: { limit: 60_000, remaining: 1850, resetMs: 150 },
		});
		assert.equal(limits.admit('openai', 'o3', 'k', 100, 0), undefined, 'another model');
	});

	it('a refused call is not charged', () => {
		const limits = new RateLimits([{ tpm: 60, burstSeconds: 10 }]);
		assert.equal(limits.admit('openai', 'm', 'k', 30, 0)?.refused, undefined);
		const refused = limits.admit('openai', 'm', 'k', 30, 0);
		assert.equal(refused?.refused?.kind, 'tokens');
		// 20 tokens in debt, 1 a second back: just past 20 s.
		assert.equal(refused?.refused?.retryAfterMs, 20_001);
		assert.equal(limits.admit('openai', 'm', 'k', 30, 20_001)?.refused, undefined);
	});
});

describe('rate limits: checked when the scenario loads', () => {
	const cases: [unknown, RegExp][] = [
		[{ limits: {} }, /scenario limits: must be a list/],
		[{ limits: [{ rpm: -1 }] }, /scenario limits\[0\]\.rpm: must be a number/],
		[{ limits: [{ rpm: 60 }, { provider: 'openai' }] }, /scenario limits\[1\]: needs rpm, tpm/],
		[{ limits: [{ tpm: 'many' }] }, /scenario limits\[0\]\.tpm: must be a number/],
		[{ limits: [{ rpm: 60, burstSeconds: 0 }] }, /scenario limits\[0\]\.burstSeconds/],
		[{ limits: [{ rpm: 60, provider: 'mistral' }] }, /scenario limits\[0\]\.provider: unknown/],
		[{ limits: [{ rpm: 60, key: '' }] }, /scenario limits\[0\]\.key: must be non-empty/],
		[{ limits: [{ rpn: 60 }] }, /scenario limits\[0\]\.rpn: unknown/],
		[{ limits: ['fast'] }, /scenario limits\[0\]: must be an object/],
	];
	for (const [scenario, message] of cases) {
		it(`refuses ${JSON.stringify(scenario)}`, () => {
			assert.throws(() => parseScenario(scenario), message);
		});
	}

	it('a refused scenario posted to the admin endpoint is a 400 naming the field', async () => {
		const response = await fetch(`${ctx.emulator.baseUrl}/_emulator/scenario`, {
			method: 'PUT',
			body: JSON.stringify({ limits: [{ provider: 'openai', rpm: 0 }] }),
		});
		assert.equal(response.status, 400);
		assert.match(((await response.json()) as { error: string }).error, /limits\[0\]\.rpm/);
	});

	it('the admin stats count the 429s the limits sent', async () => {
		load({ limits: [{ provider: 'openai', rpm: 60 }] });
		const client = openai();
		await askOpenAi(client);
		await askOpenAi(client);
		await askOpenAi(client);
		const response = await fetch(`${ctx.emulator.baseUrl}/_emulator/stats`);
		const stats = (await response.json()) as { limited: number; limitedByKey: object };
		assert.equal(stats.limited, 2);
		assert.deepEqual(stats.limitedByKey, { [keyHash(KEYS.openai)]: 2 });
	});
});
