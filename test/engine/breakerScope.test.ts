/**
 * What a circuit covers and what it counts: one per provider, model, endpoint and credential,
 * and only the provider's own failures, never a stopped execution.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { CircuitBreaker } from '../../lib/engine/breaker/circuitBreaker';
import { FailoverChain } from '../../lib/engine/failoverChain';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import { freePort } from '../harness/n8n';
import { KEYS, MODELS, tier, useEmulator } from '../support/emulator';

const ctx = useEmulator();
const POLICY = {
	failureThreshold: 5,
	openMs: 60_000,
	longOpenMs: 600_000,
	probeLeaseMs: 30_000,
	failureRate: 0,
	rateWindowMs: 60_000,
	rateMinCalls: 10,
};

function breaker(): { breaker: CircuitBreaker; store: SqliteStateStore } {
	const store = new SqliteStateStore(join(mkdtempSync(join(tmpdir(), 'scope-')), 'state.sqlite'));
	return { breaker: new CircuitBreaker(store, POLICY), store };
}

describe('circuits per credential and endpoint', () => {
	it('a rejected API key opens only its own circuit: another key to the same model is still called', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ apiKeys: { anthropic: KEYS.anthropic } });
		const shared = breaker();
		const wrongKey = KEYS.anthropic.replace('TESTKEY', 'REVOKED');
		const revoked = new FailoverChain(
			{
				tiers: [
					tier(emulator, 'anthropic', { apiKey: wrongKey, attempts: 1 }),
					tier(emulator, 'openai', { attempts: 1 }),
				],
			},
			{ breaker: shared.breaker },
		);
		const healthy = new FailoverChain(
			{
				tiers: [
					tier(emulator, 'anthropic', { attempts: 1 }),
					tier(emulator, 'openai', { attempts: 1 }),
				],
			},
			{ breaker: shared.breaker },
		);
		const first = await revoked.run({ prompt: 'Summarise.' });
		assert.equal(first.attempts[0].errorClass, 'auth');
		assert.equal(
			(await revoked.run({ prompt: 'Again.' })).attempts[0].message,
			'skipped: circuit open',
			'the revoked key is skipped from now on',
		);

		emulator.resetCounts();
		const answer = await healthy.run({ prompt: 'Summarise.' });
		assert.equal(answer.tier, 1, 'the good key answers from tier 1');
		assert.equal(emulator.count('anthropic', MODELS.anthropic), 1);

		const circuits = await shared.store.openCircuits();
		assert.equal(circuits.length, 1);
		assert.match(circuits[0], /^anthropic\/claude-haiku-4-5#[0-9a-f]{16}$/);
		for (const key of [wrongKey, KEYS.anthropic])
			assert.ok(!circuits[0].includes(key.slice(0, 12)), 'no key in the circuit name');
	});

	it('two OpenAI-compatible servers serving the same model name have a circuit each', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({});
		const shared = breaker();
		// Nothing listens there: every call is refused.
		const down = `http://127.0.0.1:${await freePort()}/v1`;
		const at = (baseUrl: string) =>
			new FailoverChain(
				{
					tiers: [
						{ provider: 'openai_compatible', model: 'llama3.2', baseUrl, attempts: 1 },
						tier(emulator, 'anthropic', { attempts: 1 }),
					],
				},
				{ breaker: shared.breaker },
			);
		const broken = at(down);
		for (let i = 0; i < POLICY.failureThreshold; i++) {
			const result = await broken.run({ prompt: 'x' });
			assert.equal(result.attempts[0].errorClass, 'connection');
		}
		assert.equal((await broken.run({ prompt: 'x' })).attempts[0].message, 'skipped: circuit open');

		emulator.resetCounts();
		const working = await at(emulator.urls.openai).run({ prompt: 'x' });
		assert.equal(working.tier, 1, 'the other server is still called');
		assert.equal(emulator.count('openai'), 1);
	});

	it('the circuit name changes with the key and the base URL, not with a trailing slash', () => {
		const base = { provider: 'openai' as const, model: 'gpt-4o-mini', apiKey: 'sk-a' };
		const names = [
			CircuitBreaker.circuitOf(base),
			CircuitBreaker.circuitOf({ ...base, apiKey: 'sk-b' }),
			CircuitBreaker.circuitOf({ ...base, baseUrl: 'https://gateway.example/v1' }),
		];
		assert.equal(new Set(names).size, 3);
		assert.equal(
			CircuitBreaker.circuitOf({ ...base, baseUrl: 'https://gateway.example/v1/' }),
			names[2],
		);
	});
});

describe('stopped executions', () => {
	it('five executions stopped mid-call never open the circuit of a healthy provider', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ latencyMs: 2_000 });
		const shared = breaker();
		const chain = new FailoverChain(
			{
				tiers: [
					tier(emulator, 'anthropic', { attempts: 1 }),
					tier(emulator, 'openai', { attempts: 1 }),
				],
			},
			{ breaker: shared.breaker },
		);
		const stopped = [];
		for (let i = 0; i < POLICY.failureThreshold; i++) {
			const stop = new AbortController();
			setTimeout(() => stop.abort(), 30);
			stopped.push(await chain.run({ prompt: `stopped ${i}` }, { signal: stop.signal }));
		}

		emulator.loadScenario({});
		emulator.resetCounts();
		const next = await chain.run({ prompt: 'not stopped' });
		assert.equal(next.tier, 1, 'the provider is still called');
		assert.equal(emulator.count('anthropic'), 1);
		assert.deepEqual(await shared.store.openCircuits(), []);
		for (const result of stopped) {
			assert.equal(result.outcome, 'needs_human');
			assert.match(result.reasonText, /cancelled/);
			assert.equal(result.attempts[0].message, 'the execution was stopped during the call');
		}
	});
});
