/** Builds the package and packs it as users get it, once per test run. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..');
export const OUTPUT = join(ROOT, 'test', 'output');
const PACK_DIR = join(OUTPUT, 'pack');

const SOURCES = ['nodes', 'credentials', 'lib', 'package.json', 'gulpfile.js'];

function newestSource(path: string): number {
	const stat = statSync(path);
	if (!stat.isDirectory()) return stat.mtimeMs;
	return Math.max(0, ...readdirSync(path).map((entry) => newestSource(join(path, entry))));
}

/** The packed tarball, rebuilt when any source is newer than it. */
export function packedTarball(): string {
	const existing = existsSync(PACK_DIR)
		? readdirSync(PACK_DIR).filter((f) => f.endsWith('.tgz'))
		: [];
	if (existing.length === 1) {
		const tarball = join(PACK_DIR, existing[0]);
		const sources = Math.max(...SOURCES.map((s) => newestSource(join(ROOT, s))));
		if (statSync(tarball).mtimeMs > sources) return tarball;
	}
	return pack();
}

export function pack(): string {
	rmSync(PACK_DIR, { recursive: true, force: true });
	mkdirSync(PACK_DIR, { recursive: true });
	execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
	execFileSync('npm', ['pack', '--pack-destination', PACK_DIR], {
		cwd: ROOT,
		stdio: ['ignore', 'ignore', 'inherit'],
	});
	const files = readdirSync(PACK_DIR).filter((f) => f.endsWith('.tgz'));
	if (files.length !== 1)
		throw new Error(`expected one tarball in ${PACK_DIR}, found ${files.length}`);
	return join(PACK_DIR, files[0]);
}

if (require.main === module) process.stdout.write(`${pack()}\n`);
