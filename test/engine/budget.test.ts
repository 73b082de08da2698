/**
 * Spend budgets in the engine: the real Anthropic and OpenAI SDK adapters against the
 * emulator, the budget kept in a real state store. Each call here costs exactly $0.01, worst
 * and actual alike: a 38-character prompt is 10 tokens to the estimate and 13 to the
 * emulator (Anthropic's wire adds a line for the system prompt), Max Output Tokens is 10 and the 28-character reply 7 tokens, all at $500 per
 * million tokens (20 tokens, 10 000 micro-dollars).
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import { FailoverChain } from '../../lib/engine/failoverChain';
import { calendarKey, SpendBudget } from '../../lib/engine/limits/budget';
import type { BudgetSettings } from '../../lib/engine/limits/budget';
import type { TierConfig } from '../../lib/engine/types';
import { RedisStateStore } from '../../lib/state/redisStore';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import { StoreGuard } from '../../lib/state/storeGuard';
import type { StateStore } from '../../lib/state/types';
import { StateStoreUnavailableError } from '../../lib/state/types';
import { RedisServer } from '../harness/redis';
import { tier, useEmulator } from '../support/emulator';
import type { WireProvider } from '../../lib/emulator/wire';
import { VirtualClock } from '../support/virtualClock';

const ctx = useEmulator({ reply: 'Ticket summarised, all done.' });

/** 38 characters: 10 tokens to the engine's estimate. */
const PROMPT = 'Summarise ticket 0001 for the on-call.';
const DEAR = { inputPerMTok: 500, outputPerMTok: 500 };
/** A tenth of the price: each call $0.001. */
const CHEAP = { inputPerMTok: 50, outputPerMTok: 50 };
/** Monday 5 January 2026, 09:00 UTC. */
const MONDAY = Date.parse('2026-01-05T09:00:00Z');

const priced = (provider: WireProvider, price = DEAR): TierConfig =>
	tier(ctx.emulator, provider, { price, attempts: 1 });

function newStore(): SqliteStateStore {
	return new SqliteStateStore(join(mkdtempSync(join(tmpdir(), 'budget-')), 'state.sqlite'));
}

function budgeted(
	tiers: TierConfig[],
	store: StateStore,
	settings: Partial<BudgetSettings>,
	clock = new VirtualClock(MONDAY),
	guard?: StoreGuard,
) {
	const budget = new SpendBudget(
		{
			workflowId: 'wf-1',
			limitUsd: 0.05,
			period: 'day',
			timeZone: 'UTC',
			executionId: 'exec-1',
			...settings,
		},
		store,
		clock,
		guard,
	);
	const chain = new FailoverChain({ tiers, maxOutputTokens: 10 }, { budget, clock });
	return { budget, run: (prompt = PROMPT) => clock.run(chain.run({ prompt })) };
}

describe('spend budgets', () => {
	it('each call costs what the emulator bills: $0.01', async () => {
		const store = newStore();
		for (const provider of ['openai', 'anthropic'] as const) {
			const { run } = budgeted([priced(provider)], store, { workflowId: provider });
			const result = await run();
			assert.deepEqual(result.usage, { inputTokens: 13, outputTokens: 7 }, provider);
			assert.equal(result.costUsd, 0.01);
			assert.equal(result.budget?.spentUsd, 0.01);
		}
		await store.close();
	});

	it('a $0.05 day budget answers 5 items at $0.01, the rest go to a human as over budget', async () => {
		const { emulator } = ctx;
		emulator.resetCounts();
		const store = newStore();
		const { run } = budgeted([priced('openai')], store, {});
		const results = [];
		for (let i = 0; i < 8; i++) results.push(await run());
		assert.deepEqual(
			results.map((r) => r.outcome),
			[...Array(5).fill('answered'), ...Array(3).fill('needs_human')],
		);
		assert.equal(emulator.count('openai'), 5, 'no call past the budget');
		assert.deepEqual(results[4].budget, {
			name: 'workflow wf-1',
			period: 'day 2026-01-05',
			limitUsd: 0.05,
			spentUsd: 0.05,
			remainingUsd: 0,
		});
		const refused = results[5];
		assert.equal(refused.reason, 'over_budget');
		assert.equal(refused.attempts[0].status, 'skipped');
		assert.equal(refused.attempts[0].message, 'skipped: over budget');
		assert.equal(refused.attempts[0].detail, '$0.05 of $0.05 spent today');
		assert.match(refused.reasonText, /spend budget "workflow wf-1"/);
		assert.match(refused.reasonText, /\$0\.05 for day 2026-01-05/);
		assert.match(refused.reasonText, /tier 1 openai\/gpt-4o-mini: skipped, over budget/);
		assert.equal(refused.costUsd, 0);
		await store.close();
	});

	it('at real models’ pace (answers taking about a second), 8 tasks at once on a $0.05 budget: 5 calls, never more', async () => {
		ctx.emulator.loadScenario({ reply: 'Ticket summarised, all done.', profile: 'realistic' });
		ctx.emulator.resetCounts();
		try {
			const store = newStore();
			const budget = new SpendBudget(
				{
					workflowId: 'wf-real-pace',
					limitUsd: 0.05,
					period: 'day',
					timeZone: 'UTC',
					executionId: 'exec-1',
				},
				store,
			);
			const chain = new FailoverChain(
				{ tiers: [priced('openai')], maxOutputTokens: 10 },
				{ budget },
			);
			// All eight reserve while the first answers are still seconds away.
			const results = await Promise.all(
				Array.from({ length: 8 }, () => chain.run({ prompt: PROMPT })),
			);
			const answered = results.filter((r) => r.outcome === 'answered');
			assert.equal(answered.length, 5);
			assert.deepEqual(
				results.filter((r) => r.outcome !== 'answered').map((r) => r.reason),
				Array(3).fill('over_budget'),
			);
			assert.equal(ctx.emulator.count('openai'), 5, 'no call past the budget');
			assert.equal(Math.max(...results.map((r) => r.budget?.spentUsd ?? 0)), 0.05);
			await store.close();
		} finally {
			ctx.emulator.loadScenario({ reply: 'Ticket summarised, all done.' });
		}
	});

	it('a call cut off with no usage (a timeout) counts at its worst cost: it may have been billed', async () => {
		ctx.emulator.loadScenario({
			reply: 'Ticket summarised, all done.',
			rules: [{ provider: 'openai', fault: 'hang' }],
		});
		try {
			const store = newStore();
			const budget = new SpendBudget(
				{ workflowId: 'wf-cut', limitUsd: 0.05, period: 'day', timeZone: 'UTC', executionId: 'e' },
				store,
			);
			const chain = new FailoverChain(
				{ tiers: [{ ...priced('openai'), timeoutMs: 300 }], maxOutputTokens: 10 },
				{ budget },
			);
			const result = await chain.run({ prompt: PROMPT });
			assert.equal(result.attempts[0].errorClass, 'timeout');
			// The worst cost reserved: 10 prompt tokens and 10 output tokens at $500 a million.
			assert.equal(result.budget?.spentUsd, 0.01);
			await store.close();
		} finally {
			ctx.emulator.loadScenario({ reply: 'Ticket summarised, all done.' });
		}
	});

	it('a cheaper tier 2 answers when tier 1 does not fit in what is left', async () => {
		const store = newStore();
		const { run } = budgeted([priced('anthropic'), priced('openai', CHEAP)], store, {
			limitUsd: 0.015,
		});
		const first = await run();
		assert.equal(first.tier, 1);
		const second = await run();
		assert.equal(second.outcome, 'answered');
		assert.equal(second.tier, 2);
		assert.equal(second.attempts[0].message, 'skipped: over budget');
		assert.equal(second.attempts[0].detail, '$0.01 of $0.015 spent today');
		assert.equal(second.budget?.spentUsd, 0.011);
		assert.equal(second.budget?.remainingUsd, 0.004);
		await store.close();
	});

	it('a budget per execution counts each execution apart; a day budget counts them together', async () => {
		const store = newStore();
		const perExecution = (executionId: string) =>
			budgeted([priced('anthropic')], store, { period: 'execution', executionId, limitUsd: 0.01 });
		const one = perExecution('exec-1');
		const two = perExecution('exec-2');
		assert.equal((await one.run()).outcome, 'answered');
		assert.equal((await one.run()).reason, 'over_budget');
		const second = await two.run();
		assert.equal(second.outcome, 'answered', 'another execution has a budget of its own');
		assert.equal(second.budget?.period, 'execution exec-2');
		const refused = await two.run();
		assert.equal(refused.attempts[0].detail, '$0.01 of $0.01 spent in this execution');

		const perDay = (executionId: string) =>
			budgeted([priced('anthropic')], store, { executionId, limitUsd: 0.01 });
		assert.equal((await perDay('exec-3').run()).outcome, 'answered');
		assert.equal((await perDay('exec-4').run()).reason, 'over_budget', 'the same day');
		const spent = async (period: string) =>
			(await store.budgetSnapshot('workflow:wf-1', period, 10_000, MONDAY)).spentMicros;
		assert.deepEqual(
			[await spent('exec-1'), await spent('exec-2'), await spent('2026-01-05')],
			[10_000, 10_000, 10_000],
		);
		await store.close();
	});

	it('a named budget is shared by the workflows that name it, across two Redis clients', async () => {
		const redis = await RedisServer.start();
		const stores: RedisStateStore[] = [];
		try {
			const client = async () => {
				const store = new RedisStateStore({ host: '127.0.0.1', port: redis.port });
				await store.connect();
				stores.push(store);
				return store;
			};
			const shared = { name: 'support team', limitUsd: 0.02 };
			const a = budgeted([priced('anthropic')], await client(), { ...shared, workflowId: 'wf-a' });
			const b = budgeted([priced('openai')], await client(), { ...shared, workflowId: 'wf-b' });
			const own = budgeted([priced('openai')], await client(), {
				workflowId: 'wf-c',
				limitUsd: 0.02,
			});
			assert.equal((await a.run()).outcome, 'answered');
			assert.equal((await b.run()).outcome, 'answered');
			const refused = await a.run();
			assert.equal(refused.reason, 'over_budget');
			assert.equal(refused.budget?.name, 'support team');
			assert.match(refused.reasonText, /spend budget "support team"/);
			assert.equal((await b.run()).reason, 'over_budget');
			assert.equal((await own.run()).outcome, 'answered', "a workflow's own budget is apart");
		} finally {
			for (const store of stores) await store.close();
			await redis.stop();
		}
	});

	it('the time zone decides the day: 23:30 UTC is already tomorrow in Tokyo', async () => {
		const lateMonday = Date.parse('2026-01-05T23:30:00Z');
		assert.equal(calendarKey('day', 'UTC', lateMonday), '2026-01-05');
		assert.equal(calendarKey('day', 'Asia/Tokyo', lateMonday), '2026-01-06');
		assert.equal(calendarKey('month', 'Asia/Tokyo', Date.parse('2026-01-31T23:30:00Z')), '2026-02');
		assert.equal(calendarKey('day', 'America/New_York', lateMonday), '2026-01-05');

		const store = newStore();
		const inZone = (timeZone: string) =>
			budgeted(
				[priced('anthropic')],
				store,
				{ timeZone, limitUsd: 0.01 },
				new VirtualClock(lateMonday),
			);
		const utc = await inZone('UTC').run();
		assert.equal(utc.budget?.period, 'day 2026-01-05');
		const tokyo = await inZone('Asia/Tokyo').run();
		assert.equal(tokyo.outcome, 'answered', "Tokyo's Tuesday has its own budget");
		assert.equal(tokyo.budget?.period, 'day 2026-01-06');
		assert.equal((await inZone('Asia/Tokyo').run()).reason, 'over_budget');
		await store.close();
	});

	it('a time zone that is not one is a configuration error naming the field', () => {
		assert.throws(
			() => budgeted([priced('openai')], newStore(), { timeZone: 'Mars/Olympus_Mons' }),
			(error: Error & { field?: string }) =>
				error.field === 'budget.timeZone' &&
				/"Mars\/Olympus_Mons" is not a time zone/.test(error.message),
		);
	});

	describe('a store that fails', () => {
		let broken: SqliteStateStore;
		before(async () => {
			broken = newStore();
			await broken.close();
		});

		it('fails the task before any call, as the guard says by default', async () => {
			const { emulator } = ctx;
			emulator.resetCounts();
			const { run } = budgeted([priced('openai')], broken, {});
			await assert.rejects(run(), StateStoreUnavailableError);
			assert.equal(emulator.count('openai'), 0);
		});

		it('or lets the call go outside the budget, marked degraded', async () => {
			const { run } = budgeted(
				[priced('openai')],
				broken,
				{},
				new VirtualClock(MONDAY),
				new StoreGuard('proceed'),
			);
			const result = await run();
			assert.equal(result.outcome, 'answered');
			assert.match(result.degraded ?? '', /checking the spend budget failed/);
			assert.equal(result.budget, undefined);
		});
	});
});
