/**
 * n8n's queue mode, the way users scale out: Redis for the job queue, PostgreSQL for the
 * database, one main (UI, API, webhooks) and `n8n worker` processes that run the executions.
 * Every process has this package installed in its own user folder and the same encryption key.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { N8n, N8nProcess, freePort, installPackage, processEnv } from './n8n';
import { packedTarball } from './pack';
import { PostgresServer } from './postgres';
import { RedisServer } from './redis';
import { ensureRuntime } from './runtime';

export interface QueueModeOptions {
	workers?: number;
	/** Jobs each worker runs at once (`n8n worker --concurrency`). */
	concurrency?: number;
	/** Extra settings for every process, main and workers (queue timings, ...). */
	env?: Record<string, string>;
}

export class N8nWorker {
	private constructor(
		private readonly process: N8nProcess,
		readonly userFolder: string,
	) {}

	static async start(sharedEnv: Record<string, string>, concurrency: number): Promise<N8nWorker> {
		const userFolder = mkdtempSync(join(tmpdir(), 'resilient-llm-worker-'));
		installPackage(userFolder, packedTarball());
		const healthPort = await freePort();
		const env = {
			...processEnv(userFolder, await freePort()),
			...sharedEnv,
			QUEUE_HEALTH_CHECK_ACTIVE: 'true',
			QUEUE_HEALTH_CHECK_PORT: String(healthPort),
			N8N_WORKER_SERVER_ADDRESS: '127.0.0.1',
		};
		const n8n = new N8nProcess(
			['worker', `--concurrency=${concurrency}`],
			env,
			userFolder,
			'n8n-worker.log',
		);
		await n8n.waitReady(`http://127.0.0.1:${healthPort}/healthz/readiness`, 180_000);
		return new N8nWorker(n8n, userFolder);
	}

	logs(): string {
		return this.process.logs();
	}

	/** Whether this worker ran the execution (n8n logs "Worker started execution <id>"). */
	ran(executionId: string): boolean {
		return this.logs().includes(`Worker started execution ${executionId} `);
	}

	/** Stops the worker; SIGKILL simulates a crash (its jobs are left running in the queue). */
	async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
		await this.process.stop(signal);
	}

	async dispose(): Promise<void> {
		await this.process.stop();
		if (!process.env.KEEP_N8N_FOLDER) rmSync(this.userFolder, { recursive: true, force: true });
	}
}

export class QueueMode {
	readonly workers: N8nWorker[] = [];

	private constructor(
		readonly redis: RedisServer,
		readonly postgres: PostgresServer,
		readonly main: N8n,
		private readonly sharedEnv: Record<string, string>,
		private readonly concurrency: number,
	) {}

	static async start(options: QueueModeOptions = {}): Promise<QueueMode> {
		ensureRuntime();
		const [redis, postgres] = await Promise.all([RedisServer.start(), PostgresServer.start()]);
		const sharedEnv = {
			...postgres.n8nEnv(),
			EXECUTIONS_MODE: 'queue',
			QUEUE_BULL_REDIS_HOST: '127.0.0.1',
			QUEUE_BULL_REDIS_PORT: String(redis.port),
			N8N_ENCRYPTION_KEY: randomBytes(24).toString('hex'),
			...options.env,
		};
		let main: N8n;
		try {
			// The main runs the database migrations; workers start once it is ready.
			main = await N8n.start({ env: sharedEnv });
		} catch (error) {
			await Promise.all([redis.stop(), postgres.stop()]);
			throw error;
		}
		// Workers build the links of waiting executions ($execution.resumeUrl): the main's address.
		const workerEnv = { ...sharedEnv, N8N_WEBHOOK_URL: `${main.baseUrl}/` };
		const cluster = new QueueMode(redis, postgres, main, workerEnv, options.concurrency ?? 10);
		try {
			for (let i = 0; i < (options.workers ?? 2); i++) await cluster.addWorker();
		} catch (error) {
			await cluster.dispose();
			throw error;
		}
		return cluster;
	}

	async addWorker(): Promise<N8nWorker> {
		const worker = await N8nWorker.start(this.sharedEnv, this.concurrency);
		this.workers.push(worker);
		return worker;
	}

	/** Stops and removes the last worker. */
	async removeWorker(): Promise<void> {
		await this.workers.pop()?.dispose();
	}

	/**
	 * A Resilient LLM: Redis credential on the main for the queue's own Redis server, database
	 * 1 keeping the package's keys apart from the queue's.
	 */
	async redisCredential(): Promise<{ id: string; name: string }> {
		const name = 'Queue Redis';
		const id = await this.main.createCredential(name, 'resilientLlmRedisApi', {
			host: '127.0.0.1',
			port: this.redis.port,
			database: 1,
			ssl: false,
		});
		return { id, name };
	}

	/** Which worker (0-based) ran an execution, from the workers' logs. */
	workerOf(executionId: string): number | undefined {
		const index = this.workers.findIndex((w) => w.ran(executionId));
		return index < 0 ? undefined : index;
	}

	async dispose(): Promise<void> {
		await Promise.all(this.workers.map((w) => w.dispose()));
		await this.main.dispose();
		await Promise.all([this.redis.stop(), this.postgres.stop()]);
	}
}
