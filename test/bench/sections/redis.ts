/** A Redis 100 ms away under 20 tasks at once: the worst task's time past its deadline. */
import { randomUUID } from 'node:crypto';

import { CircuitBreaker } from '../../../lib/engine/breaker/circuitBreaker';
import { FailoverChain } from '../../../lib/engine/failoverChain';
import { runOnce } from '../../../lib/state/idempotency';
import { RedisStateStore } from '../../../lib/state/redisStore';
import { RedisServer } from '../../harness/redis';
import { LatencyProxy } from '../../support/latencyProxy';
import { figures, KEY, progress, rows } from '../report';
import type { SectionContext } from '../report';

/**
 * A Redis 100 ms away (each way) under 20 tasks at once, with the breaker and idempotency on
 * it: store operations run side by side and inside the task's deadline, so no task overruns.
 */
export async function redisLatency({ emulator }: SectionContext): Promise<void> {
	emulator.loadScenario({ latencyMs: 1_000 });
	progress('redis: 20 tasks at once on a Redis 100 ms away, 3 s deadline, 1 s answers');
	const server = await RedisServer.start();
	const proxy = await LatencyProxy.start(server.port, 100);
	const store = new RedisStateStore({ host: '127.0.0.1', port: proxy.port });
	try {
		await store.connect();
		const deadlineMs = 3_000;
		const chain = new FailoverChain(
			{
				tiers: [
					{
						provider: 'anthropic',
						model: 'claude-bench-redis',
						apiKey: KEY,
						baseUrl: emulator.urls.anthropic,
						timeoutMs: 30_000,
					},
				],
				deadlineMs,
			},
			{ breaker: new CircuitBreaker(store) },
		);
		const results = await Promise.all(
			Array.from({ length: 20 }, (_, i) =>
				runOnce(
					store,
					`bench-redis-${randomUUID()}`,
					`owner-${i}`,
					{ leaseMs: deadlineMs + 5_000, ttlMs: 60_000 },
					() => chain.run({ prompt: `task ${i}` }),
					(r) => r.outcome === 'answered',
				),
			),
		);
		const answered = results.filter((r) => r.result.outcome === 'answered').length;
		const worst = Math.max(...results.map((r) => r.result.latencyMs));
		figures.redis_latency_deadline_overrun_ms = Math.max(0, worst - deadlineMs);
		rows.push([
			'redis_latency_deadline_overrun_ms',
			`${figures.redis_latency_deadline_overrun_ms} ms`,
			`slowest task ${worst} ms of a ${deadlineMs} ms deadline; ${answered} of 20 answered; target 0`,
		]);
	} finally {
		await store.close();
		await proxy.stop();
		await server.stop();
	}
}
