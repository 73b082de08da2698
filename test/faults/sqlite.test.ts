/**
 * The embedded state store's file in trouble under a real n8n: its folder read-only, the
 * file locked by another process, the file deleted in the middle of a batch. Every item ends
 * on exactly one output, every answer the provider sent is delivered, and the node uses the
 * file again once the trouble is over, with no n8n restart.
 *
 * The tests run as root on CI, and root writes into a read-only folder: n8n runs here without
 * the capabilities that let root ignore file modes (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { storeFaultOptions } from '../support/storeFaultOptions';
import { KEYS, MODELS } from '../support/emulator';
import { useN8n } from '../support/n8nFixture';
import { until } from '../support/until';
import { llmWorkflow } from '../support/workflows';
import { assertEachOnExactlyOneOutput, outputsOf } from '../support/executionOutputs';
import type { Outputs } from '../support/executionOutputs';

const NO_ROOT_OVERRIDE = [
	'setpriv',
	'--inh-caps=-dac_override,-dac_read_search',
	'--bounding-set=-dac_override,-dac_read_search',
	'--',
];
const ctx = useN8n(process.getuid?.() === 0 ? { runUnder: NO_ROOT_OVERRIDE } : {});

const storageFolder = () =>
	join(ctx.n8n.userFolder, '.n8n', 'storage', 'n8n-nodes-resilient-llm.resilientLlm');
const stateFile = () => join(storageFolder(), 'state.sqlite');

const workflows = new Map<string, { id: string; path: string }>();

/** One workflow per "If State Store Is Unavailable" setting, errors to the error output. */
async function workflowFor(mode: 'fail' | 'proceed'): Promise<{ id: string; path: string }> {
	const existing = workflows.get(mode);
	if (existing) return existing;
	const path = `sqlite-${mode}`;
	const parameters = {
		prompt: '={{ $json.text }}',
		chain: {
			tiers: [{ provider: 'anthropic', model: MODELS.anthropic, attempts: 1, timeoutSeconds: 30 }],
		},
		options: storeFaultOptions('embedded', mode, {
			idempotencyTtlHours: 1,
			deadlineSeconds: 60,
			initialBackoffMs: 50,
		}),
	};
	const id = await ctx.n8n.createWorkflow(
		llmWorkflow(`SQLite trouble (${mode})`, path, parameters, ctx.credentials, {
			onError: 'continueErrorOutput',
		}),
	);
	const created = { id, path };
	workflows.set(mode, created);
	return created;
}

let batches = 0;

/** Sends `count` items through the workflow for `mode`; checks the guarantees every run keeps. */
async function run(
	mode: 'fail' | 'proceed',
	count: number,
	during?: () => Promise<void>,
): Promise<Outputs> {
	const { id, path } = await workflowFor(mode);
	const tag = `b${++batches}`;
	const items = Array.from({ length: count }, (_, n) => ({
		id: n,
		key: `${tag}-${n}`,
		text: `Ticket ${tag}-${n}`,
	}));
	const { emulator, n8n } = ctx;
	const callsBefore = emulator.count('anthropic');
	const answersBefore = emulator.answers('anthropic');
	const response = n8n.webhook(path, { items }, 300_000);
	await during?.();
	assert.equal((await response).status, 200);
	const outputs = outputsOf(await n8n.latestExecution(id));
	assertEachOnExactlyOneOutput(
		outputs,
		items.map((item) => item.id),
	);
	const calls = emulator.count('anthropic') - callsBefore;
	assert.ok(calls <= count, `provider calls within items x attempts (${calls} for ${count})`);
	assert.equal(
		emulator.answers('anthropic') - answersBefore,
		outputs.answered.filter((item) => !(item.resilience as { cached?: boolean }).cached).length,
		'every answer the provider sent was delivered',
	);
	assert.equal(outputs.needsHuman.length, 0, 'the provider was healthy throughout');
	return outputs;
}

const degradedOf = (item: Record<string, unknown>) =>
	(item.resilience as { degraded?: string }).degraded;

describe('embedded state file in trouble, in a real n8n', () => {
	it('a read-only folder: items fail or run without shared state, per the option; once writable, the file is used', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS });
		// Before any execution has opened the store: the folder exists but may not be written.
		mkdirSync(storageFolder(), { recursive: true });
		chmodSync(storageFolder(), 0o500);
		try {
			const failed = await run('fail', 6);
			assert.equal(failed.errors.length, 6, 'every item failed, before any provider call');
			for (const error of failed.errors)
				assert.match(
					String(error.error),
					/^Item \d+: the state store is unavailable: .*state\.sqlite.*EACCES/,
				);

			const proceeded = await run('proceed', 6);
			assert.equal(proceeded.answered.length, 6);
			for (const item of proceeded.answered)
				assert.match(String(degradedOf(item)), /ran without shared state: .*EACCES/);
		} finally {
			chmodSync(storageFolder(), 0o700);
		}
		const recovered = await run('fail', 6);
		assert.equal(recovered.answered.length, 6);
		assert.deepEqual(
			recovered.answered.map(degradedOf).filter(Boolean),
			[],
			'the file is used again',
		);
		assert.ok(existsSync(stateFile()));
	});

	it('a folder made read-only while the file is open: nothing changes for the items', async () => {
		await run('fail', 2); // the store is open
		chmodSync(storageFolder(), 0o500);
		try {
			const outputs = await run('fail', 20);
			assert.equal(outputs.answered.length, 20);
			assert.deepEqual(outputs.answered.map(degradedOf).filter(Boolean), []);
		} finally {
			chmodSync(storageFolder(), 0o700);
		}
	});

	it('locked by another process: items fail or run without shared state, n8n is not blocked, and the file is used again once the lock goes', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS });
		await run('fail', 1); // the store is open
		const holder = await holdLock(stateFile());
		try {
			const failed = await run('fail', 4);
			assert.equal(failed.errors.length, 4);
			for (const error of failed.errors)
				assert.match(String(error.error), /state\.sqlite is locked by another process/);

			const proceeded = await run('proceed', 4);
			assert.equal(proceeded.answered.length, 4);
			for (const item of proceeded.answered)
				assert.match(String(degradedOf(item)), /locked by another process/);
		} finally {
			await release(holder);
		}
		const recovered = await run('fail', 4);
		assert.equal(recovered.answered.length, 4);
		assert.deepEqual(recovered.answered.map(degradedOf).filter(Boolean), []);
	});

	it('deleted in the middle of a batch: every item ends on one output and later executions run', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS, latencyMs: 50 });
		ctx.emulator.resetCounts();
		await run('fail', 40, async () => {
			await until(
				() => ctx.emulator.count('anthropic') >= 10,
				'the batch to be under way',
				120_000,
			);
			for (const suffix of ['', '-wal', '-shm']) rmSync(`${stateFile()}${suffix}`, { force: true });
		});
		const later = await run('fail', 4);
		assert.equal(later.answered.length, 4);
	});
});

/** Another process holding the file's write lock (BEGIN EXCLUSIVE) until it is killed. */
async function holdLock(file: string): Promise<ChildProcess> {
	const holder = spawn(
		process.execPath,
		[
			'-e',
			`const db = new (require('node:sqlite').DatabaseSync)(${JSON.stringify(file)});
			db.exec('BEGIN EXCLUSIVE'); console.log('locked'); setInterval(() => {}, 1000);`,
		],
		{ stdio: ['ignore', 'pipe', 'inherit'] },
	);
	await new Promise((resolve, reject) => {
		holder.stdout?.once('data', resolve);
		holder.once('exit', (code) => reject(new Error(`the lock holder exited with ${code}`)));
	});
	return holder;
}

async function release(holder: ChildProcess): Promise<void> {
	if (holder.exitCode !== null || holder.signalCode !== null) return;
	const exited = new Promise((resolve) => holder.once('exit', resolve));
	holder.kill('SIGKILL');
	await exited;
}
