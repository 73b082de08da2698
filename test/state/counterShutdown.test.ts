/**
 * Alert counters waiting in memory when a process ends, in real separate processes: written
 * when it runs out of work or gets SIGTERM (which still stops it), and a store that never
 * takes them does not keep the process alive.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';

import { SqliteStateStore } from '../../lib/state/sqliteStore';

const ALERT_COUNTERS = JSON.stringify(resolve(__dirname, '../../nodes/shared/alertCounters.ts'));
const SQLITE_MODULE = JSON.stringify(resolve(__dirname, '../../lib/state/sqliteStore.ts'));
const BUFFER_MODULE = JSON.stringify(resolve(__dirname, '../../lib/state/counterBuffer.ts'));
/** A separate process that fails to end within this has been kept alive. */
const GIVE_UP_MS = 30_000;

/** A script that counts 5 tasks for wf-x in the embedded store at `file`, then runs `then`. */
function countingScript(file: string, then: string): string {
	return `const { countersOf } = require(${ALERT_COUNTERS});
		const { SqliteStateStore } = require(${SQLITE_MODULE});
		const counters = countersOf(new SqliteStateStore(${JSON.stringify(file)}));
		for (let i = 0; i < 5; i++) counters.countTask('wf-x', { tier: 1, escalated: false, costUsd: 0 });
		${then}`;
}

async function tasksIn(file: string): Promise<number> {
	const store = new SqliteStateStore(file);
	try {
		return (
			(await store.readCounters(Date.now() - 600_000, Date.now() + 60_000)).get('wf-x')?.tasks ?? 0
		);
	} finally {
		await store.close();
	}
}

const storeFile = () => join(mkdtempSync(join(tmpdir(), 'counter-shutdown-')), 'state.sqlite');

describe('alert counters when the process ends', () => {
	it('a process that runs out of work writes them before it exits', async () => {
		const file = storeFile();
		await promisify(execFile)(
			process.execPath,
			['--import', 'tsx', '-e', countingScript(file, '')],
			{ timeout: GIVE_UP_MS },
		);
		assert.equal(await tasksIn(file), 5);
	});

	it('SIGTERM, with no other handler: they are written, and the process still stops on it', async () => {
		const file = storeFile();
		const child = spawn(
			process.execPath,
			[
				'--import',
				'tsx',
				'-e',
				countingScript(file, `process.stdout.write('counted'); setInterval(() => {}, 1000);`),
			],
			{ stdio: ['ignore', 'pipe', 'inherit'] },
		);
		const giveUp = setTimeout(() => child.kill('SIGKILL'), GIVE_UP_MS);
		try {
			await new Promise<void>((resolve, reject) => {
				child.stdout.on('data', (chunk: Buffer) => {
					if (chunk.toString().includes('counted')) resolve();
				});
				child.once('exit', () => reject(new Error('ended before counting')));
			});
			const exited = new Promise<NodeJS.Signals | null>((resolve) =>
				child.once('exit', (_code, signal) => resolve(signal)),
			);
			child.kill('SIGTERM');
			assert.equal(await exited, 'SIGTERM', 'stopped by the signal, as without the hook');
		} finally {
			clearTimeout(giveUp);
		}
		assert.equal(await tasksIn(file), 5);
	});

	it('a process that runs out of work ends even when that last write fails', async () => {
		const file = storeFile();
		const fault = `new (require('node:sqlite').DatabaseSync)(${JSON.stringify(file)}).exec(
			"CREATE TRIGGER fail_counters BEFORE INSERT ON counters BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END;");`;
		const script = `new (require(${SQLITE_MODULE}).SqliteStateStore)(${JSON.stringify(file)}); ${fault}
			${countingScript(file, '')}`;
		await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], {
			timeout: GIVE_UP_MS,
		});
		assert.equal(await tasksIn(file), 0);
	});

	it('a store that never takes them does not keep the process alive', async () => {
		// Without an unref'd timer, the retry a second later would keep this process forever.
		const script = `const { CounterBuffer } = require(${BUFFER_MODULE});
			const refusing = { addCounts: async () => { throw new Error('disk I/O error'); } };
			const buffer = new CounterBuffer(refusing);
			buffer.countTask('wf-x', { tier: 1, escalated: false, costUsd: 0 });
			process.stdout.write(String(buffer.pendingTasks));`;
		const { stdout } = await promisify(execFile)(
			process.execPath,
			['--import', 'tsx', '-e', script],
			{
				timeout: GIVE_UP_MS,
			},
		);
		assert.equal(stdout, '1', 'ended by itself with the task still pending');
	});
});
