/** The provider emulator: scripted faults, run-time changes, counters, and its command. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';

import { parseScenario } from '../../lib/emulator/scenario';
import { ScenarioState } from '../../lib/emulator/scenarioState';
import type { Scenario } from '../../lib/emulator/scenario';
import type { WireProvider } from '../../lib/emulator/wire';
import { MODELS, useEmulator } from '../support/emulator';
import { until } from '../support/until';

const ctx = useEmulator();

/** A scenario's rules on exact instants: `now` is milliseconds since it was loaded. */
function scenarioAt(scenario: Scenario, random: () => number = Math.random) {
	const state = new ScenarioState(parseScenario(scenario), random, 0);
	return (provider: WireProvider, model: string, now = 0) => state.decide(provider, model, now);
}

async function call(
	path: string,
	body: unknown,
	headers: Record<string, string> = {},
	// eslint-disable-next-line @typescript-eslint/no-explicit-any -- wire bodies of four providers, read field by field
): Promise<{ status: number; headers: Headers; body: any }> {
	const response = await fetch(`${ctx.emulator.baseUrl}${path}`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', ...headers },
		body: JSON.stringify(body),
		signal: AbortSignal.timeout(5_000),
	});
	const text = await response.text();
	return {
		status: response.status,
		headers: response.headers,
		body: text ? JSON.parse(text) : undefined,
	};
}

const anthropic = (model = MODELS.anthropic) =>
	call(
		'/v1/messages',
		{ model, max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] },
		{ 'x-api-key': 'k' },
	);

describe('scripted faults', () => {
	it('a status for the next N calls, then normal answers', async () => {
		ctx.emulator.loadScenario({
			rules: [{ provider: 'anthropic', fault: 'overloaded', times: 2 }],
		});
		const statuses = [];
		for (let i = 0; i < 3; i++) statuses.push((await anthropic()).status);
		assert.deepEqual(statuses, [529, 529, 200]);
	});

	it('a time window: from afterMs, inclusive, to untilMs, exclusive', () => {
		const decide = scenarioAt({
			rules: [{ provider: 'anthropic', fault: 'server_error', afterMs: 150, untilMs: 400 }],
		});
		assert.deepEqual(
			[0, 149, 150, 399, 400].map((ms) => decide('anthropic', MODELS.anthropic, ms).fault),
			['ok', 'ok', 'server_error', 'server_error', 'ok'],
		);
	});

	it('a time window counts from when the server loaded the scenario', async () => {
		ctx.emulator.loadScenario({
			rules: [
				{
					provider: 'anthropic',
					model: 'claude-sonnet-*',
					fault: 'server_error',
					untilMs: 3_600_000,
				},
				{ provider: 'anthropic', fault: 'server_error', afterMs: 3_600_000 },
			],
		});
		assert.deepEqual(
			[(await anthropic('claude-sonnet-4-5')).status, (await anthropic()).status],
			[500, 200],
			'inside a window that ends in an hour; before one that starts in an hour',
		);
	});

	it('every Nth call: exactly the 3rd, 6th and 9th matching calls fail, other models untouched', () => {
		const decide = scenarioAt({
			rules: [{ provider: 'anthropic', model: MODELS.anthropic, fault: 'overloaded', every: 3 }],
		});
		const faults: string[] = [];
		for (let i = 0; i < 9; i++) {
			faults.push(decide('anthropic', MODELS.anthropic).fault);
			// Calls to another model neither fail nor count.
			assert.equal(decide('anthropic', 'claude-sonnet-4-5').fault, 'ok');
		}
		assert.deepEqual(faults, [
			'ok',
			'ok',
			'overloaded',
			'ok',
			'ok',
			'overloaded',
			'ok',
			'ok',
			'overloaded',
		]);
		assert.throws(
			() => parseScenario({ rules: [{ fault: 'overloaded', every: 1.5 }] }),
			/rules\[0\]\.every: must be a whole number/,
		);
	});

	it('a failure rate: exactly the calls whose random draw falls below it fail', () => {
		const draws = [0.05, 0.95, 0.29, 0.3, 0.31, 0, 0.7, 0.5, 0.1, 0.99];
		const decide = scenarioAt(
			{ rules: [{ provider: 'anthropic', fault: 'server_error', rate: 0.3 }] },
			() => draws.shift() ?? 1,
		);
		assert.deepEqual(
			Array.from({ length: 10 }, () => decide('anthropic', MODELS.anthropic).fault),
			[
				'server_error',
				'ok',
				'server_error',
				'ok',
				'ok',
				'server_error',
				'ok',
				'ok',
				'server_error',
				'ok',
			],
		);
	});

	it('added latency, scoped to one model, on top of the scenario-wide latency', () => {
		const decide = scenarioAt({
			latencyMs: 20,
			rules: [{ provider: 'anthropic', model: 'claude-sonnet-*', latencyMs: 150 }],
		});
		assert.deepEqual(
			[
				decide('anthropic', 'claude-sonnet-4-5').latencyMs,
				decide('anthropic', 'claude-haiku-4-5').latencyMs,
			],
			[170, 20],
		);
	});

	it('a rule for one API key: only calls carrying it, counted apart from the others', () => {
		const state = new ScenarioState(
			parseScenario({
				rules: [{ provider: 'openai', key: 'key-a', fault: 'quota_exhausted', every: 2 }],
			}),
			Math.random,
			0,
		);
		const fault = (key: string) =>
			state.decide('openai', MODELS.openai, 0, undefined, '', key).fault;
		assert.deepEqual(
			[fault('key-a'), fault('key-b'), fault('key-b'), fault('key-a'), fault('key-a')],
			['ok', 'ok', 'ok', 'quota_exhausted', 'ok'],
		);
		assert.throws(
			() => parseScenario({ rules: [{ key: '' }] }),
			/rules\[0\]\.key: must be non-empty text/,
		);
	});

	it('holds a call for its latency, and holds no call to another model', async () => {
		const LATENCY_MS = 1_000;
		ctx.emulator.loadScenario({
			rules: [{ provider: 'anthropic', model: 'claude-sonnet-*', latencyMs: LATENCY_MS }],
		});
		ctx.emulator.resetCounts();
		const answered: string[] = [];
		const started = performance.now();
		const slow = anthropic('claude-sonnet-4-5').then(() => {
			answered.push('sonnet');
			return performance.now() - started;
		});
		await until(
			() => ctx.emulator.count('anthropic', 'claude-sonnet-4-5') === 1,
			'the emulator to receive the held call',
		);
		await anthropic('claude-haiku-4-5');
		answered.push('haiku');
		const slowMs = await slow;
		assert.deepEqual(
			answered,
			['haiku', 'sonnet'],
			'asked while the held call waited, the other model answered first',
		);
		// Node's timers run on a millisecond clock, which may put the end up to 1 ms early.
		assert.ok(slowMs >= LATENCY_MS - 1, `held for ${slowMs} ms`);
	});

	it('a token bucket: calls beyond it are limited, with the exact time to the next token', () => {
		const decide = scenarioAt({
			rules: [{ provider: 'openai', rateLimit: { capacity: 3, refillPerSecond: 2 } }],
		});
		const at = (ms: number) => {
			const verdict = decide('openai', MODELS.openai, ms);
			return [verdict.fault, verdict.retryAfterS];
		};
		assert.deepEqual(
			[at(0), at(0), at(0), at(0), at(250), at(500)],
			[
				['ok', undefined],
				['ok', undefined],
				['ok', undefined],
				['rate_limited', 0.5], // empty: the next token in 500 ms
				['rate_limited', 0.25], // half a token back
				['ok', undefined], // a whole token back
			],
		);
	});

	it('a token-bucket rate limit answers 429 with the time to the next token', async () => {
		// One token in 1000 s: however slow the machine, no token comes back during the test.
		ctx.emulator.loadScenario({
			rules: [{ provider: 'openai', rateLimit: { capacity: 3, refillPerSecond: 0.001 } }],
		});
		const results = [];
		for (let i = 0; i < 5; i++)
			results.push(
				await call(
					'/v1/chat/completions',
					{ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] },
					{ authorization: 'Bearer k' },
				),
			);
		assert.deepEqual(
			results.map((r) => r.status),
			[200, 200, 200, 429, 429],
		);
		assert.equal(results[3].body.error.code, 'rate_limit_exceeded');
		const waitMs = Number(results[3].headers.get('retry-after-ms'));
		assert.ok(
			waitMs > 0 && waitMs <= 1_000_000,
			`retry-after-ms ${waitMs}: at most one token's refill time`,
		);
	});

	it('malformed JSON, a dropped connection and a hang', async () => {
		ctx.emulator.loadScenario({
			rules: [
				{ provider: 'ollama', model: 'bad', fault: 'malformed' },
				{ provider: 'ollama', model: 'drop', fault: 'drop' },
				{ provider: 'ollama', model: 'hang', fault: 'hang' },
			],
		});
		const post = (model: string, ms = 5_000) =>
			fetch(`${ctx.emulator.baseUrl}/api/chat`, {
				method: 'POST',
				body: JSON.stringify({ model, stream: false, messages: [] }),
				signal: AbortSignal.timeout(ms),
			});
		const malformed = await post('bad');
		assert.equal(malformed.status, 200);
		await assert.rejects(malformed.json());
		await assert.rejects(post('drop'), /fetch failed/);
		await assert.rejects(post('hang', 300), /TimeoutError|aborted/);
	});

	it('a connection cut mid-body, a slow drip and a proxy HTML 502', async () => {
		ctx.emulator.loadScenario({
			rules: [
				{ provider: 'ollama', model: 'cut', fault: 'drop_mid_body' },
				{ provider: 'ollama', model: 'drip', fault: 'slow_drip', dripSeconds: 0.5 },
				{ provider: 'ollama', model: 'proxy', fault: 'proxy_html_502' },
			],
		});
		ctx.emulator.resetCounts();
		const post = (model: string) =>
			fetch(`${ctx.emulator.baseUrl}/api/chat`, {
				method: 'POST',
				body: JSON.stringify({ model, stream: false, messages: [] }),
				signal: AbortSignal.timeout(10_000),
			});
		const cut = await post('cut');
		assert.equal(cut.status, 200, 'the status and headers arrive');
		await assert.rejects(cut.text(), /terminated/);
		const drip = await post('drip');
		assert.equal(drip.status, 200);
		const dripped = await drip.json();
		assert.equal(dripped.model, 'drip', 'the whole body arrives, slowly');
		const proxy = await post('proxy');
		assert.equal(proxy.status, 502);
		assert.match(proxy.headers.get('content-type') ?? '', /text\/html/);
		assert.match(await proxy.text(), /<title>502 Bad Gateway<\/title>/);
		assert.equal(ctx.emulator.answers('ollama'), 1, 'only the drip, waited out, was an answer');
		assert.throws(
			() => parseScenario({ rules: [{ fault: 'slow_drip', dripSeconds: -1 }] }),
			/rules\[0\]\.dripSeconds/,
		);
	});

	it('answers in each wire format, on both Gemini API versions', async () => {
		ctx.emulator.loadScenario({ reply: 'Hello from {provider}/{model}' });
		const a = await anthropic();
		assert.equal(a.body.type, 'message');
		assert.equal(a.body.content[0].text, `Hello from anthropic/${MODELS.anthropic}`);
		assert.match(a.headers.get('request-id') ?? '', /^req_emu/);
		for (const version of ['v1', 'v1beta']) {
			const g = await call(
				`/${version}/models/gemini-2.5-flash:generateContent`,
				{ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] },
				{ 'x-goog-api-key': 'k' },
			);
			assert.equal(
				g.body.candidates[0].content.parts[0].text,
				'Hello from gemini/gemini-2.5-flash',
			);
			assert.equal(g.body.candidates[0].finishReason, 'STOP');
		}
		const o = await call('/api/chat', {
			model: 'llama3.2',
			stream: false,
			messages: [{ role: 'user', content: 'hi' }],
		});
		assert.equal(o.body.done_reason, 'stop');
		assert.ok(o.body.prompt_eval_count > 0);
	});

	it('faithful error bodies: Anthropic spend limit, Gemini bad key, OpenAI quota', async () => {
		ctx.emulator.loadScenario({
			rules: [
				{ provider: 'anthropic', fault: 'quota_exhausted' },
				{ provider: 'gemini', fault: 'auth' },
				{ provider: 'openai', fault: 'quota_exhausted' },
			],
		});
		const a = await anthropic();
		assert.equal(a.status, 429);
		assert.equal(a.body.error.details.error_code, 'enforced_spend_limit_reached');
		const g = await call('/v1beta/models/gemini-2.5-flash:generateContent', { contents: [] });
		assert.equal(g.status, 400);
		assert.equal(g.body.error.status, 'INVALID_ARGUMENT');
		assert.equal(g.body.error.details[0].reason, 'API_KEY_INVALID');
		const o = await call('/v1/chat/completions', { model: 'gpt-4o-mini', messages: [] });
		assert.equal(o.body.error.code, 'insufficient_quota');
	});
});

describe('paths', () => {
	it("answers Groq's path (GROQ_BASE_URL + /openai/v1) on OpenAI's wire, counted as openai", async () => {
		ctx.emulator.loadScenario({});
		ctx.emulator.resetCounts();
		const o = await call(
			'/openai/v1/chat/completions',
			{ model: 'llama-3.1-8b-instant', messages: [{ role: 'user', content: 'hi' }] },
			{ authorization: 'Bearer k' },
		);
		assert.equal(o.status, 200);
		assert.equal(o.body.object, 'chat.completion');
		assert.equal(ctx.emulator.count('openai', 'llama-3.1-8b-instant'), 1);
	});
});

describe('control', () => {
	it('changes faults at run time over the admin endpoint and counts requests per provider and model', async () => {
		ctx.emulator.loadScenario({});
		ctx.emulator.resetCounts();
		assert.equal((await anthropic()).status, 200);
		const admin = `${ctx.emulator.baseUrl}/_emulator`;
		const put = await fetch(`${admin}/rules`, {
			method: 'POST',
			body: JSON.stringify({
				rules: [{ provider: 'anthropic', fault: 'rate_limited', retryAfterS: 3 }],
			}),
		});
		assert.equal(put.status, 200);
		const limited = await anthropic();
		assert.equal(limited.status, 429);
		assert.equal(limited.headers.get('retry-after'), '3');
		await anthropic('claude-sonnet-4-5');
		const stats = await (await fetch(`${admin}/stats`)).json();
		assert.deepEqual(stats, {
			total: 3,
			requests: { 'anthropic/claude-haiku-4-5': 2, 'anthropic/claude-sonnet-4-5': 1 },
			maxInFlight: 1,
			// Only the one normal answer, sent in full, counts as an answer.
			answers: { 'anthropic/claude-haiku-4-5': 1 },
			// A rule's 429 is not one of the scenario's rate limits.
			limited: 0,
			limitedByKey: {},
		});
		await fetch(`${admin}/scenario`, { method: 'PUT', body: '{}' });
		assert.equal((await anthropic()).status, 200);
	});

	it('counts requests and full answers per prompt, so a test can tell which items were called again', async () => {
		ctx.emulator.loadScenario({
			rules: [{ provider: 'anthropic', fault: 'overloaded', times: 1 }],
		});
		ctx.emulator.resetCounts();
		const ask = (content: string) =>
			call(
				'/v1/messages',
				{ model: MODELS.anthropic, max_tokens: 10, messages: [{ role: 'user', content }] },
				{ 'x-api-key': 'k' },
			);
		assert.equal((await ask('item A')).status, 529);
		assert.equal((await ask('item A')).status, 200);
		assert.equal((await ask('item B')).status, 200);
		const counts = Object.fromEntries(
			[...ctx.emulator.promptCounts()].map(([prompt, count]) => [prompt.trim(), count]),
		);
		assert.deepEqual(counts, {
			'item A': { calls: 2, answered: 1 },
			'item B': { calls: 1, answered: 1 },
		});
		ctx.emulator.resetCounts();
		assert.equal(ctx.emulator.promptCounts().size, 0);
	});

	it('rejects a bad scenario naming the field', async () => {
		const response = await fetch(`${ctx.emulator.baseUrl}/_emulator/scenario`, {
			method: 'PUT',
			body: JSON.stringify({ rules: [{ provider: 'anthropic', fault: 'on_fire' }] }),
		});
		assert.equal(response.status, 400);
		assert.match((await response.json()).error, /rules\[0\]\.fault: unknown fault "on_fire"/);
	});

	it('checks API keys when the scenario names them', async () => {
		ctx.emulator.loadScenario({ apiKeys: { anthropic: 'right' } });
		assert.equal(
			(await call('/v1/messages', { model: 'm', messages: [] }, { 'x-api-key': 'wrong' })).status,
			401,
		);
		assert.equal(
			(await call('/v1/messages', { model: 'm', messages: [] }, { 'x-api-key': 'right' })).status,
			200,
		);
	});
});

describe('npm run emulator', () => {
	it('prints the base URL on its first line and serves the scenario file', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'emulator-'));
		const file = join(dir, 'scenario.json');
		writeFileSync(
			file,
			JSON.stringify({ rules: [{ provider: 'openai', fault: 'overloaded', times: 1 }] }),
		);
		// As a user's shell runs it: npm settings come from the project's .npmrc, not the caller's.
		const env = Object.fromEntries(
			Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_config_')),
		);
		const child = spawn('npm', ['run', 'emulator', '--', '--port', '0', '--scenario', file], {
			stdio: ['ignore', 'pipe', 'inherit'],
			detached: true,
			env,
		});
		try {
			const firstLine = await new Promise<string>((resolve, reject) => {
				const timer = setTimeout(() => reject(new Error('no output within 30 s')), 30_000);
				createInterface({ input: child.stdout }).once('line', (line) => {
					clearTimeout(timer);
					resolve(line);
				});
			});
			assert.match(firstLine, /^http:\/\/127\.0\.0\.1:\d+$/);
			const ask = () =>
				fetch(`${firstLine}/v1/chat/completions`, {
					method: 'POST',
					body: JSON.stringify({ model: 'gpt-4o-mini', messages: [] }),
					signal: AbortSignal.timeout(5_000),
				});
			assert.equal((await ask()).status, 503);
			assert.equal((await ask()).status, 200);
		} finally {
			process.kill(-child.pid!, 'SIGTERM');
		}
	});

	it('exits non-zero with a clear message on a bad scenario file', async () => {
		const dir = mkdtempSync(join(tmpdir(), 'emulator-'));
		const file = join(dir, 'scenario.json');
		writeFileSync(file, JSON.stringify({ rules: [{ provider: 'mistral' }] }));
		const child = spawn('npm', ['run', 'emulator', '--', '--scenario', file], {
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		let stderr = '';
		child.stderr.on('data', (d) => (stderr += d));
		const code = await new Promise((resolve) => child.on('exit', resolve));
		assert.notEqual(code, 0);
		assert.match(stderr, /rules\[0\]\.provider: unknown provider "mistral"/);
	});
});
