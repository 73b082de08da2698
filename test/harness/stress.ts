/**
 * `npm run test:stress`: the whole test suite, several times in a row, while a load
 * generator keeps every core busy, as on a crowded CI machine. Stops at the first failing
 * run. The load is bounded: each busy process ends by itself after --load-minutes.
 *
 *   npm run test:stress -- [--runs 3] [--load-minutes 120]
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';

import { ROOT } from './pack';

function option(name: string, fallback: number): number {
	const at = process.argv.indexOf(`--${name}`);
	const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
	if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} takes a positive number`);
	return value;
}

/** One process spinning on one core until its time is up (or it is killed). */
function busyProcess(minutes: number): ChildProcess {
	const code = `const end = Date.now() + ${Math.round(minutes * 60_000)}; while (Date.now() < end) {}`;
	return spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
}

function runSuite(): Promise<number> {
	return new Promise((resolve) => {
		const child = spawn('npm', ['run', 'test:all'], { cwd: ROOT, stdio: 'inherit' });
		child.on('exit', (code) => resolve(code ?? 1));
	});
}

async function main(): Promise<void> {
	const runs = option('runs', 3);
	const loadMinutes = option('load-minutes', 120);
	const cores = availableParallelism();
	const load = Array.from({ length: cores }, () => busyProcess(loadMinutes));
	const stopLoad = () => load.forEach((p) => p.kill('SIGKILL'));
	process.on('SIGINT', () => {
		stopLoad();
		process.exit(130);
	});
	process.stdout.write(
		`stress: ${runs} runs of the suite, ${cores} busy processes on ${cores} cores\n`,
	);
	const durations: number[] = [];
	let failedRun = 0;
	try {
		for (let run = 1; run <= runs; run++) {
			const started = performance.now();
			const code = await runSuite();
			durations.push((performance.now() - started) / 1000);
			process.stdout.write(
				`stress: run ${run} ${code === 0 ? 'passed' : `failed (exit ${code})`} in ${durations[run - 1].toFixed(0)} s\n`,
			);
			if (code !== 0) {
				failedRun = run;
				break;
			}
		}
	} finally {
		stopLoad();
	}
	const list = durations.map((d) => `${(d / 60).toFixed(1)} min`).join(', ');
	process.stdout.write(
		failedRun
			? `stress: run ${failedRun} failed after ${durations.length - 1} passing (${list})\n`
			: `stress: ${runs} of ${runs} runs passed under load (${list})\n`,
	);
	process.exit(failedRun ? 1 : 0);
}

void main();
