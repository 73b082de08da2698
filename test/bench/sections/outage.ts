/** A primary answering 529 on every call: a naive retry-then-fallback loop, the engine, the engine with its breaker. */
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { CircuitBreaker } from '../../../lib/engine/breaker/circuitBreaker';
import { FailoverChain } from '../../../lib/engine/failoverChain';
import type { TierConfig } from '../../../lib/engine/types';
import { SqliteStateStore } from '../../../lib/state/sqliteStore';
import { figures, KEY, mean, progress, round, rows, sleep } from '../report';
import type { SectionContext } from '../report';

export async function outage({ emulator }: SectionContext): Promise<void> {
	const TASKS = 20;
	emulator.loadScenario({
		rules: [
			{ provider: 'anthropic', model: 'claude-haiku-4-5', fault: 'overloaded' },
			{ provider: 'openai', model: 'gpt-4o-mini', latencyMs: 50 },
		],
	});
	const primary = new Anthropic({
		apiKey: KEY,
		baseURL: emulator.urls.anthropic,
		maxRetries: 0,
		timeout: 30_000,
	});
	const secondary = new OpenAI({
		apiKey: KEY,
		baseURL: emulator.urls.openai,
		maxRetries: 0,
		timeout: 30_000,
	});
	const askSecondary = () =>
		secondary.chat.completions.create({
			model: 'gpt-4o-mini',
			messages: [{ role: 'user', content: 'Summarise.' }],
			max_completion_tokens: 1024,
		});

	// The secondary's own latency: the floor for any failover.
	const own: number[] = [];
	for (let i = 0; i < TASKS; i++) {
		const started = performance.now();
		await askSecondary();
		own.push(performance.now() - started);
	}
	figures.secondary_s = round(mean(own) / 1000);

	// The common naive pattern: 3 tries on the primary, sleeping 1 s * 1.5^n plus up to 0.5 s
	// of jitter after each failure, then one fallback model.
	progress(`outage, naive baseline: ${TASKS} tasks, about 5.5 s each`);
	const naive: number[] = [];
	for (let i = 0; i < TASKS; i++) {
		const started = performance.now();
		for (let n = 0; n < 3; n++) {
			try {
				await primary.messages.create({
					model: 'claude-haiku-4-5',
					max_tokens: 1024,
					messages: [{ role: 'user', content: 'Summarise.' }],
				});
				break;
			} catch {
				await sleep(1000 * 1.5 ** n + Math.random() * 500);
			}
		}
		await askSecondary();
		naive.push(performance.now() - started);
	}
	figures.outage_naive_s = round(mean(naive) / 1000);

	progress(`outage, engine: ${TASKS} tasks`);
	const tiers: TierConfig[] = [
		{
			provider: 'anthropic',
			model: 'claude-haiku-4-5',
			apiKey: KEY,
			baseUrl: emulator.urls.anthropic,
		},
		{ provider: 'openai', model: 'gpt-4o-mini', apiKey: KEY, baseUrl: emulator.urls.openai },
	];
	const chain = new FailoverChain({ tiers });
	const engine: number[] = [];
	for (let i = 0; i < TASKS; i++) {
		const started = performance.now();
		const result = await chain.run({ prompt: 'Summarise.' });
		if (result.tier !== 2)
			throw new Error(`outage task ${i} was not answered by the secondary: ${result.reasonText}`);
		engine.push(performance.now() - started);
	}
	figures.outage_engine_s = round(mean(engine) / 1000);

	progress(`outage, engine with the circuit breaker: ${TASKS} tasks`);
	const store = new SqliteStateStore(
		join(mkdtempSync(join(tmpdir(), 'bench-state-')), 'state.sqlite'),
	);
	const withBreaker = new FailoverChain({ tiers }, { breaker: new CircuitBreaker(store) });
	const breakerTimes: number[] = [];
	let openedAt = -1;
	for (let i = 0; i < TASKS; i++) {
		const started = performance.now();
		const result = await withBreaker.run({ prompt: 'Summarise.' });
		breakerTimes.push(performance.now() - started);
		if (openedAt < 0 && result.attempts[0].message === 'skipped: circuit open') openedAt = i;
	}
	await store.close();
	const afterOpen = breakerTimes.slice(Math.max(0, openedAt));
	figures.outage_breaker_s = round(mean(breakerTimes) / 1000);
	figures.outage_breaker_open_s = round(mean(afterOpen) / 1000);
	rows.push(['secondary alone, mean per task', `${figures.secondary_s} s`, `${TASKS} tasks`]);
	rows.push([
		'outage_naive_s (3 tries, 1 s * 1.5^n + jitter, then fallback)',
		`${figures.outage_naive_s} s`,
		`${TASKS} tasks`,
	]);
	rows.push([
		'outage_engine_s (default backoff, no breaker)',
		`${figures.outage_engine_s} s`,
		`${round(figures.outage_naive_s / figures.outage_engine_s, 1)}x faster than naive`,
	]);
	rows.push([
		'outage_breaker_s (breaker on, all tasks)',
		`${figures.outage_breaker_s} s`,
		`breaker opened at task ${openedAt + 1}`,
	]);
	rows.push([
		'outage_breaker_open_s (after it opened)',
		`${figures.outage_breaker_open_s} s`,
		`${round(figures.outage_breaker_open_s / figures.secondary_s, 2)}x the secondary's own; target <= 1.2x`,
	]);
}
