/**
 * The house rules, checked on every run: which folder may import which, no import cycles, no
 * file nothing uses, and files and functions small enough to read in one sitting. A new file
 * that breaks one of them fails here with its name, before it becomes a habit.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

import ts from 'typescript';

const ROOT = resolve(__dirname, '../..');
const SOURCE_DIRS = ['lib', 'nodes', 'credentials'];
/** Programs that use lib/ without being imported: the demo and the release scripts. */
const OTHER_ROOT_DIRS = ['demo', 'scripts'];

/** The lines a file may run to, and a function, before it should be split. */
const MAX_FILE_LINES = 300;
const MAX_FUNCTION_LINES = 60;
/** Declarative tables: long because the knowledge is long, not because the logic is. */
const TABLES = new Set<string>([]);

function sourceFiles(dir: string): string[] {
	const full = join(ROOT, dir);
	if (!existsSync(full)) return [];
	return readdirSync(full, { recursive: true, encoding: 'utf8' })
		.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
		.map((f) => join(dir, f).split('\\').join('/'))
		.sort();
}

const FILES = SOURCE_DIRS.flatMap(sourceFiles);

/** Every relative module a file names: imports, re-exports, type imports, require() and import(). */
function specifiersOf(file: string): string[] {
	const source = ts.createSourceFile(
		file,
		readFileSync(join(ROOT, file), 'utf8'),
		ts.ScriptTarget.Latest,
		true,
	);
	const found: string[] = [];
	const visit = (node: ts.Node): void => {
		if (
			(ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
			node.moduleSpecifier &&
			ts.isStringLiteral(node.moduleSpecifier)
		) {
			found.push(node.moduleSpecifier.text);
		} else if (
			ts.isCallExpression(node) &&
			(node.expression.kind === ts.SyntaxKind.ImportKeyword ||
				(ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
			node.arguments.length === 1 &&
			ts.isStringLiteral(node.arguments[0])
		) {
			found.push(node.arguments[0].text);
		}
		ts.forEachChild(node, visit);
	};
	visit(source);
	return found.filter((s) => s.startsWith('.'));
}

/** The project file a relative specifier names, or undefined for a non-TypeScript file. */
function resolveImport(from: string, specifier: string): string | undefined {
	const base = join(dirname(from), specifier.replace(/\.(js|ts)$/, ''));
	for (const candidate of [`${base}.ts`, `${base}/index.ts`]) {
		if (existsSync(join(ROOT, candidate))) return relative(ROOT, join(ROOT, candidate));
	}
	return undefined;
}

function importGraph(files: string[]): Map<string, string[]> {
	const graph = new Map<string, string[]>();
	for (const file of files) {
		const targets = specifiersOf(file)
			.map((s) => resolveImport(file, s))
			.filter((t): t is string => t !== undefined);
		graph.set(file, [...new Set(targets)]);
	}
	return graph;
}

const GRAPH = importGraph(FILES);

/** The layer a file belongs to, named as in the README's Layout section. */
function layerOf(file: string): string {
	const [top, second] = file.split('/');
	if (top === 'lib') return `lib/${second}`;
	if (top === 'nodes') return second === 'shared' ? 'nodes/shared' : 'nodes/<node>';
	return top;
}

/** What each layer may import besides itself; a node folder may import only its own files. */
const MAY_IMPORT: Record<string, string[]> = {
	'lib/clock': [],
	'lib/providers': ['lib/clock'],
	'lib/state': ['lib/clock'],
	'lib/engine': ['lib/providers', 'lib/state', 'lib/clock'],
	'lib/alerts': ['lib/state', 'lib/clock'],
	'lib/review': ['lib/state', 'lib/clock'],
	'lib/emulator': ['lib/providers', 'lib/clock'],
	'nodes/shared': ['lib/*'],
	'nodes/<node>': ['nodes/shared', 'lib/*'],
	credentials: [],
};

function mayImport(from: string, to: string): boolean {
	const fromLayer = layerOf(from);
	const toLayer = layerOf(to);
	if (fromLayer === 'nodes/<node>' && toLayer === 'nodes/<node>') {
		return from.split('/')[1] === to.split('/')[1];
	}
	if (fromLayer === toLayer) return true;
	const allowed = MAY_IMPORT[fromLayer];
	assert.ok(allowed, `${from}: ${fromLayer} is a folder the layering does not know; add it`);
	return allowed.some((l) => l === toLayer || (l === 'lib/*' && toLayer.startsWith('lib/')));
}

/** Strongly connected components of more than one file, or a file importing itself. */
function cycles(graph: Map<string, string[]>): string[][] {
	let next = 0;
	const index = new Map<string, number>();
	const low = new Map<string, number>();
	const stack: string[] = [];
	const onStack = new Set<string>();
	const found: string[][] = [];
	const connect = (file: string): void => {
		index.set(file, next);
		low.set(file, next++);
		stack.push(file);
		onStack.add(file);
		for (const target of graph.get(file) ?? []) {
			if (!index.has(target)) {
				connect(target);
				low.set(file, Math.min(low.get(file)!, low.get(target)!));
			} else if (onStack.has(target)) {
				low.set(file, Math.min(low.get(file)!, index.get(target)!));
			}
		}
		if (low.get(file) !== index.get(file)) return;
		const component: string[] = [];
		let member: string;
		do {
			member = stack.pop()!;
			onStack.delete(member);
			component.push(member);
		} while (member !== file);
		if (component.length > 1 || (graph.get(file) ?? []).includes(file)) found.push(component);
	};
	for (const file of graph.keys()) if (!index.has(file)) connect(file);
	return found;
}

function entryPoints(): string[] {
	const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
		n8n: { nodes: string[]; credentials: string[] };
		bin: Record<string, string>;
	};
	const fromDist = (file: string) => file.replace(/^dist\//, '').replace(/\.js$/, '.ts');
	return [
		...pkg.n8n.nodes.map(fromDist),
		...pkg.n8n.credentials.map(fromDist),
		...Object.values(pkg.bin).map(fromDist),
		...OTHER_ROOT_DIRS.flatMap(sourceFiles),
	];
}

/** Lines of each function longer than the limit: declarations, methods and arrow functions. */
function longFunctions(file: string): string[] {
	const text = readFileSync(join(ROOT, file), 'utf8');
	const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
	const long: string[] = [];
	const visit = (node: ts.Node): void => {
		if (
			(ts.isFunctionDeclaration(node) ||
				ts.isMethodDeclaration(node) ||
				ts.isConstructorDeclaration(node) ||
				ts.isGetAccessorDeclaration(node) ||
				ts.isFunctionExpression(node) ||
				ts.isArrowFunction(node)) &&
			node.body
		) {
			const start = source.getLineAndCharacterOfPosition(node.body.getStart()).line;
			const end = source.getLineAndCharacterOfPosition(node.body.getEnd()).line;
			const lines = end - start + 1;
			if (lines > MAX_FUNCTION_LINES) {
				const name =
					node.name && ts.isIdentifier(node.name) ? node.name.text : `function at line ${start}`;
				long.push(`${file}: ${name} has ${lines} lines`);
			}
		}
		ts.forEachChild(node, visit);
	};
	visit(source);
	return long;
}

describe('the layout of the code', () => {
	it('finds the source it checks', () => {
		assert.ok(FILES.length >= 60, `only ${FILES.length} source files found`);
		const edges = [...GRAPH.values()].reduce((n, targets) => n + targets.length, 0);
		assert.ok(edges >= 100, `only ${edges} imports found`);
	});

	it('every import goes down the layers: providers and state know nothing of the engine, no node folder imports another', () => {
		const upward: string[] = [];
		for (const [from, targets] of GRAPH)
			for (const to of targets) if (!mayImport(from, to)) upward.push(`${from} → ${to}`);
		assert.deepEqual(upward, []);
	});

	it('no import cycles, type-only imports included', () => {
		assert.deepEqual(cycles(GRAPH), []);
	});

	it('the cycle check sees a cycle, and the layering an upward import', () => {
		const graph = new Map([
			['lib/engine/a.ts', ['lib/engine/b.ts']],
			['lib/engine/b.ts', ['lib/engine/a.ts']],
			['lib/engine/c.ts', []],
		]);
		assert.deepEqual(
			cycles(graph).map((c) => c.sort()),
			[['lib/engine/a.ts', 'lib/engine/b.ts']],
		);
		assert.equal(mayImport('lib/state/x.ts', 'lib/engine/y.ts'), false);
		assert.equal(mayImport('nodes/HumanReview/x.ts', 'nodes/ResilientLlm/y.ts'), false);
		assert.equal(mayImport('nodes/HumanReview/x.ts', 'nodes/shared/y.ts'), true);
	});

	it('every file is used: reachable from a node, a credential, the emulator command, the demo or a script', () => {
		const seen = new Set<string>();
		const everything = importGraph([...FILES, ...OTHER_ROOT_DIRS.flatMap(sourceFiles)]);
		const queue = entryPoints();
		for (const entry of queue) assert.ok(existsSync(join(ROOT, entry)), `${entry} is missing`);
		while (queue.length > 0) {
			const file = queue.pop()!;
			if (seen.has(file)) continue;
			seen.add(file);
			queue.push(...(everything.get(file) ?? []));
		}
		assert.deepEqual(
			FILES.filter((f) => !seen.has(f)),
			[],
		);
	});

	it("the nodes reach no emulator code: each provider's wire format is the emulator's alone", () => {
		const reach = (start: string[]): Set<string> => {
			const seen = new Set<string>();
			const queue = [...start];
			while (queue.length > 0) {
				const file = queue.pop()!;
				if (seen.has(file)) continue;
				seen.add(file);
				queue.push(...(GRAPH.get(file) ?? []));
			}
			return seen;
		};
		const nodes = reach(entryPoints().filter((f) => f.startsWith('nodes/')));
		assert.ok(nodes.has('lib/providers/anthropic/adapter.ts'), 'the adapters are on the path');
		const emulatorCode = [...nodes].filter(
			(f) => f.startsWith('lib/emulator/') || /^lib\/providers\/.*\/?wire\w*\.ts$/.test(f),
		);
		assert.deepEqual(emulatorCode, []);
		const wires = FILES.filter((f) => /^lib\/providers\/\w+\/wire\.ts$/.test(f));
		assert.ok(wires.length >= 4, `a wire for each wire format, found ${wires.length}`);
		const emulator = reach(['lib/emulator/cli.ts']);
		for (const wire of wires) assert.ok(emulator.has(wire), `the emulator serves ${wire}`);
	});

	it(`files under lib/ and nodes/ stay under ${MAX_FILE_LINES} lines, declarative tables aside`, () => {
		const long = FILES.filter((f) => !f.startsWith('credentials/') && !TABLES.has(f))
			.map((f) => ({ f, lines: readFileSync(join(ROOT, f), 'utf8').split('\n').length }))
			.filter(({ lines }) => lines > MAX_FILE_LINES)
			.map(({ f, lines }) => `${f}: ${lines} lines`);
		assert.deepEqual(long, []);
	});

	it(`functions under lib/ and nodes/ stay under ${MAX_FUNCTION_LINES} lines`, () => {
		const long = FILES.filter((f) => !f.startsWith('credentials/') && !TABLES.has(f)).flatMap(
			longFunctions,
		);
		assert.deepEqual(long, []);
	});
});
