/** The time to return a stored result, embedded store and Redis. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { runOnce } from '../../../lib/state/idempotency';
import { RedisStateStore } from '../../../lib/state/redisStore';
import { SqliteStateStore } from '../../../lib/state/sqliteStore';
import type { StateStore } from '../../../lib/state/types';
import { RedisServer } from '../../harness/redis';
import { figures, median, progress, round, rows } from '../report';

export async function idempotentHits(): Promise<void> {
	progress('idempotency: 1,000 stored-result lookups per store');
	const measure = async (store: StateStore): Promise<number> => {
		const stored = {
			outcome: 'answered',
			text: 'A stored answer.',
			resilience: { tier: 1, attempts: [{ tier: 1, status: 'ok' }] },
		};
		await runOnce(
			store,
			'bench-key',
			'bench',
			{ leaseMs: 60_000, ttlMs: 3_600_000 },
			async () => stored,
			() => true,
		);
		const times: number[] = [];
		for (let i = 0; i < 1200; i++) {
			const started = performance.now();
			const { cached } = await runOnce(
				store,
				'bench-key',
				`reader-${i}`,
				{ leaseMs: 60_000, ttlMs: 3_600_000 },
				async () => stored,
				() => true,
			);
			if (i >= 200) times.push(performance.now() - started);
			if (!cached) throw new Error('expected a stored result');
		}
		return median(times);
	};
	const embedded = new SqliteStateStore(
		join(mkdtempSync(join(tmpdir(), 'bench-state-')), 'state.sqlite'),
	);
	figures.idempotent_hit_ms_median_embedded = round(await measure(embedded));
	await embedded.close();
	const server = await RedisServer.start();
	try {
		const redis = new RedisStateStore({ host: '127.0.0.1', port: server.port });
		await redis.connect();
		figures.idempotent_hit_ms_median_redis = round(await measure(redis));
		await redis.close();
	} finally {
		await server.stop();
	}
	rows.push([
		'idempotent_hit_ms_median, embedded',
		`${figures.idempotent_hit_ms_median_embedded} ms`,
		'1000 lookups; target <= 2 ms',
	]);
	rows.push([
		'idempotent_hit_ms_median, Redis on loopback',
		`${figures.idempotent_hit_ms_median_redis} ms`,
		'1000 lookups; target <= 3 ms',
	]);
}
