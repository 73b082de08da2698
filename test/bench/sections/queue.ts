/** n8n's queue mode (PostgreSQL, Redis, a main, workers): executions per second with two workers and one. */
import { QueueMode } from '../../harness/queueMode';
import { createLlmWorkflow, fire } from '../webhookLoad';
import { figures, mean, progress, round, rows } from '../report';
import type { SectionContext } from '../report';

/**
 * Queue mode scales by adding workers: the same webhook load with two workers and with one.
 * Each worker runs n8n's default 10 jobs at once; at 2 s per provider call, one worker tops out
 * near 5 executions per second.
 */
export async function queueThroughput({ emulator, profile }: SectionContext): Promise<void> {
	emulator.loadScenario({ profile, latencyMs: 2_000 });
	progress(`queue mode: PostgreSQL, Redis, a main and two workers; ${profile} profile`);
	const cluster = await QueueMode.start({ workers: 2 });
	try {
		const n8n = cluster.main;
		await createLlmWorkflow(
			n8n,
			emulator,
			'bench-queue',
			{ stateStore: 'redis', circuitBreaker: true },
			{ resilientLlmRedisApi: await cluster.redisCredential() },
		);
		progress('queue mode: 200 executions, 40 in flight, with 2 workers, then 1, then 2 again');
		await fire(n8n, 'bench-queue', 40, 40);
		const two = [await fire(n8n, 'bench-queue', 200, 40)];
		await cluster.removeWorker();
		const one = await fire(n8n, 'bench-queue', 200, 40);
		await cluster.addWorker();
		two.push(await fire(n8n, 'bench-queue', 200, 40));
		figures.queue_mode_exec_per_s_2_workers = round(mean(two), 1);
		figures.queue_mode_exec_per_s_1_worker = round(one, 1);
		rows.push([
			'queue_mode_exec_per_s, 2 workers',
			`${figures.queue_mode_exec_per_s_2_workers}/s`,
			`runs: ${two.map((r) => round(r, 1)).join(', ')}`,
		]);
		rows.push([
			'queue_mode_exec_per_s, 1 worker',
			`${figures.queue_mode_exec_per_s_1_worker}/s`,
			'',
		]);
		rows.push([
			'2 workers / 1 worker',
			`${round(figures.queue_mode_exec_per_s_2_workers / figures.queue_mode_exec_per_s_1_worker, 2)}`,
			'2 s provider latency, 10 jobs per worker',
		]);
	} finally {
		await cluster.dispose();
	}
}
