/** The Resilience Alert trigger over counters that real Resilient LLM runs (against the emulator) recorded. */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';

import { ResilienceAlert } from '../../nodes/ResilienceAlert/ResilienceAlert.node.ts';
import { ResilientLlm } from '../../nodes/ResilientLlm/ResilientLlm.node.ts';
import { countersOf } from '../../nodes/shared/alertCounters';
import { LLM_NODE_TYPE, openStateStore } from '../../nodes/shared/stateStores';
import { KEYS, MODELS, useEmulator } from '../support/emulator';
import { fakeExecute, fakePoll } from '../support/fakeExecute';

const ctx = useEmulator();
let userFolder = '';
before(() => {
	// The trigger finds the embedded store under n8n's user folder, as in n8n.
	userFolder = mkdtempSync(join(tmpdir(), 'alert-user-folder-'));
	process.env.N8N_USER_FOLDER = userFolder;
});

function credentials(): Record<string, ICredentialDataDecryptedObject> {
	return {
		resilientLlmAnthropicApi: { apiKey: KEYS.anthropic, baseUrl: ctx.emulator.urls.anthropic },
		resilientLlmOpenAiApi: { apiKey: KEYS.openai, baseUrl: ctx.emulator.urls.openai },
	};
}

const CHAIN = {
	tiers: [
		{ provider: 'anthropic', model: MODELS.anthropic, attempts: 1 },
		{ provider: 'openai', model: MODELS.openai, attempts: 1 },
	],
};

async function runTasks(count: number, options: IDataObject = {}, chain = CHAIN): Promise<void> {
	const items = Array.from({ length: count }, (_, i) => ({ text: `task ${i} ${Math.random()}` }));
	const run = fakeExecute({
		items,
		parameters: {
			prompt: (i: number) => items[i].text,
			chain,
			options: { initialBackoffMs: 1, ...options },
		},
		credentials: credentials(),
		storagePath: join(userFolder, '.n8n', 'storage', LLM_NODE_TYPE),
	});
	await new ResilientLlm().execute.call(run.context);
}

/** The fallback-rate alert alone: with the breaker on, the outage would open a circuit too. */
const RATES_ONLY = { circuitBreaker: false };

describe('Resilience Alert', () => {
	const staticData: IDataObject = {};
	const poll = () =>
		new ResilienceAlert().poll.call(
			fakePoll({
				parameters: {
					windowMinutes: 15,
					fallbackPercent: 20,
					escalationPercent: 10,
					minTasks: 5,
					alertOnBreaker: true,
				},
				staticData,
			}),
		);

	it('fires once with the rates while the primary is down, and once on recovery', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS });
		await runTasks(10, RATES_ONLY);
		assert.equal(await poll(), null, 'all answered by tier 1: quiet');

		ctx.emulator.loadScenario({
			apiKeys: KEYS,
			rules: [{ provider: 'anthropic', fault: 'overloaded' }],
		});
		await runTasks(10, RATES_ONLY);
		const incident = await poll();
		assert.ok(incident);
		assert.equal(incident[0].length, 1);
		const event = incident[0][0].json as IDataObject;
		assert.equal(event.event, 'incident');
		assert.equal(event.kind, 'fallback_rate');
		assert.equal(event.subject, 'wf-1');
		assert.equal(event.workflowName, 'Ticket summaries');
		assert.equal(event.workflowUrl, 'http://n8n.example.test/workflow/wf-1');
		assert.deepEqual(event.rates, { answeredBelowTier1: 0.5, escalated: 0 });
		assert.deepEqual(event.answeredByTier, {
			'tier 1': 10,
			'tier 2': 10,
			'tier 3': 0,
			'tier 4+': 0,
		});
		assert.equal((event.window as IDataObject).minutes, 15);

		await runTasks(5, RATES_ONLY);
		assert.equal(await poll(), null, 'the same incident: no second alert');

		// 15 of 85 tasks below tier 1 (17.6%) is under the 20% threshold again.
		ctx.emulator.loadScenario({ apiKeys: KEYS });
		await runTasks(60, RATES_ONLY);
		const recovered = await poll();
		assert.ok(recovered);
		assert.deepEqual(
			recovered[0].map((i) => [i.json.event, i.json.kind]),
			[['recovered', 'fallback_rate']],
		);
		assert.equal(await poll(), null);
	});

	it('fires when a circuit breaker opens', async () => {
		ctx.emulator.loadScenario({
			apiKeys: KEYS,
			rules: [{ provider: 'anthropic', fault: 'quota_exhausted' }],
		});
		await runTasks(1, { circuitBreaker: true });
		const fired = await poll();
		assert.ok(fired);
		const breaker = fired[0].find((i) => i.json.kind === 'breaker_open');
		assert.match(String(breaker?.json.subject), /^anthropic\/claude-haiku-4-5#[0-9a-f]{16}$/);
		assert.equal(breaker?.json.provider, 'anthropic');
		assert.equal(breaker?.json.model, MODELS.anthropic);
		assert.ok(!String(breaker?.json.subject).includes(KEYS.anthropic.slice(0, 12)));
		assert.equal(breaker?.json.event, 'incident');
		assert.equal(breaker?.json.workflowUrl, undefined);
	});

	it('a breaker alert recovers once the cool-down has passed, with no traffic since', async () => {
		const quiet: IDataObject = {};
		const pollQuietly = () =>
			new ResilienceAlert().poll.call(
				fakePoll({
					parameters: { windowMinutes: 15, minTasks: 1000, alertOnBreaker: true },
					staticData: quiet,
				}),
			);
		ctx.emulator.loadScenario({
			apiKeys: KEYS,
			rules: [{ provider: 'openai', fault: 'overloaded' }],
		});
		const chain = {
			tiers: [
				{ provider: 'openai', model: MODELS.openai, attempts: 1 },
				{ provider: 'anthropic', model: MODELS.anthropic, attempts: 1 },
			],
		};
		await runTasks(
			1,
			{ circuitBreaker: true, breakerThreshold: 1, breakerCooldownSeconds: 1 },
			chain,
		);
		// The circuit the test before opened is still cooling down: only this one matters here.
		const events = async () =>
			((await pollQuietly())?.[0] ?? [])
				.filter((i) => String(i.json.subject).startsWith(`openai/${MODELS.openai}`))
				.map((i) => [i.json.event, i.json.kind]);
		assert.deepEqual(await events(), [['incident', 'breaker_open']]);
		await new Promise((resolve) => setTimeout(resolve, 1_100));
		assert.deepEqual(await events(), [['recovered', 'breaker_open']]);
		assert.deepEqual(await events(), []);
	});

	it('counts nothing with Record Metrics for Alerts off, though the breaker and idempotency use the store', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS });
		const counted = async () => {
			const store = await openStateStore(fakePoll({ parameters: {}, staticData: {} }), 'embedded');
			// Through the buffer, so that counts not yet written are seen too.
			const now = Date.now();
			return (await countersOf(store).readCounters(now - 900_000, now + 60_000)).get('wf-1')?.tasks;
		};
		const before = (await counted()) ?? 0;
		await runTasks(3, { recordMetrics: false, circuitBreaker: true, idempotency: 'derived' });
		assert.equal(await counted(), before);
		await runTasks(2, { recordMetrics: true, circuitBreaker: true });
		assert.equal(await counted(), before + 2);
	});
});
