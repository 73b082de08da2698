/**
 * How lib/providers and lib/emulator import: no circles, and no wire format on the node's
 * path (the registry and the adapters), so the nodes' bundles do not carry emulator code.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

import ts from 'typescript';

const ROOT = resolve(__dirname, '../..');

/** The files a TypeScript file imports (type-only imports and re-exports included). */
function importsOf(file: string): string[] {
	const imported = ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles;
	return imported.flatMap(({ fileName }) => {
		if (!fileName.startsWith('.')) return [];
		const base = resolve(dirname(file), fileName);
		const found = [`${base}.ts`, join(base, 'index.ts')].find((candidate) => {
			try {
				return readFileSync(candidate) !== undefined;
			} catch {
				return false;
			}
		});
		assert.ok(found, `${relative(ROOT, file)} imports ${fileName}, which is not there`);
		return [found];
	});
}

function filesUnder(dir: string): string[] {
	return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
		.filter((f) => f.endsWith('.ts'))
		.map((f) => join(ROOT, dir, f));
}

/** Every file reachable from `start`, itself included. */
function closure(start: string): Set<string> {
	const seen = new Set<string>();
	const visit = (file: string) => {
		if (seen.has(file)) return;
		seen.add(file);
		importsOf(file).forEach(visit);
	};
	visit(start);
	return seen;
}

/** One import circle among these files, as relative paths, if there is any. */
function findCircle(files: string[]): string[] | undefined {
	const state = new Map<string, 'open' | 'done'>();
	const stack: string[] = [];
	const visit = (file: string): string[] | undefined => {
		state.set(file, 'open');
		stack.push(file);
		for (const next of importsOf(file)) {
			if (!files.includes(next)) continue;
			if (state.get(next) === 'open') return [...stack.slice(stack.indexOf(next)), next];
			const found = state.get(next) ? undefined : visit(next);
			if (found) return found;
		}
		stack.pop();
		state.set(file, 'done');
		return undefined;
	};
	for (const file of files) {
		const found = state.get(file) ? undefined : visit(file);
		if (found) return found.map((f) => relative(ROOT, f));
	}
	return undefined;
}

describe('Provider and emulator imports', () => {
	it('lib/providers and lib/emulator import in no circle', () => {
		const files = [...filesUnder('lib/providers'), ...filesUnder('lib/emulator')];
		assert.ok(files.length >= 25, `only ${files.length} files`);
		assert.equal(findCircle(files)?.join(' -> '), undefined);
	});

	it('the registry and the adapters reach no wire format: only the emulator imports them', () => {
		const path = closure(join(ROOT, 'lib/providers/index.ts'));
		assert.ok(path.has(join(ROOT, 'lib/providers/anthropic/adapter.ts')), 'the adapters are on it');
		const wireFiles = [...path]
			.map((f) => relative(ROOT, f))
			.filter((f) => basename(f).startsWith('wire') || f.startsWith('lib/emulator/'));
		assert.deepEqual(wireFiles, []);
		const wires = filesUnder('lib/providers').filter((f) => /\/wire\.ts$/.test(f));
		assert.equal(wires.length, 4, 'a wire for each wire format');
		const emulator = closure(join(ROOT, 'lib/emulator/server.ts'));
		for (const wire of wires) assert.ok(emulator.has(wire), relative(ROOT, wire));
	});

	it('lib/providers imports only lib/providers', () => {
		for (const file of filesUnder('lib/providers'))
			for (const imported of importsOf(file))
				assert.ok(
					imported.startsWith(join(ROOT, 'lib/providers/')),
					`${relative(ROOT, file)} imports ${relative(ROOT, imported)}`,
				);
	});
});
