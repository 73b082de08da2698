/**
 * Which copy of n8n's AI node SDK Resilient Chat Model loads: n8n's own, seen from n8n's main
 * module, its AI nodes package or NODE_PATH, even when npm put another copy beside the
 * package (the README's manual install). Folder layouts built in a temporary folder.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';

import { loadN8nAiModules, resolveN8nModule } from '../../nodes/ResilientChatModel/n8nModules';

const root = mkdtempSync(join(tmpdir(), 'n8n-modules-'));
after(() => rmSync(root, { recursive: true, force: true }));

function write(path: string, text: string): string {
	mkdirSync(dirname(path), { recursive: true });
	writeFileSync(path, text);
	return path;
}

/** A package whose index says which copy it is. */
function fakePackage(modules: string, name: string, which: string, extra = ''): string {
	write(join(modules, name, 'package.json'), JSON.stringify({ name, main: 'index.js' }));
	return write(join(modules, name, 'index.js'), `module.exports = { which: '${which}' };${extra}`);
}

const SDK = '@n8n/ai-node-sdk';

describe('n8n’s AI node SDK, not a copy beside the package', () => {
	// The README's manual install: the package and npm's copy of the SDK in .n8n/nodes.
	const nodesModules = join(root, 'user', '.n8n', 'nodes', 'node_modules');
	const besidePackage = fakePackage(nodesModules, SDK, 'beside the package');

	it('n8n installed flat (npm): found from n8n’s main module', () => {
		const n8n = join(root, 'flat', 'node_modules', 'n8n');
		const main = write(join(n8n, 'bin', 'n8n'), '');
		const own = fakePackage(join(root, 'flat', 'node_modules'), SDK, 'n8n');
		const found = resolveN8nModule(SDK, { mainFilename: main });
		assert.equal(found, own);
		assert.notEqual(found, besidePackage);
	});

	it('n8n installed strictly (pnpm): found from n8n’s AI nodes package when n8n itself cannot see it', () => {
		// pnpm's store: each package with its own dependencies beside it.
		const store = join(root, 'strict', 'store', 'langchain', 'node_modules');
		fakePackage(store, '@n8n/n8n-nodes-langchain', 'langchain');
		const own = fakePackage(store, SDK, 'n8n');
		// n8n's folder holds only a link to its AI nodes package.
		const n8nModules = join(root, 'strict', 'n8n', 'node_modules');
		mkdirSync(join(n8nModules, '@n8n'), { recursive: true });
		symlinkSync(
			join(store, '@n8n', 'n8n-nodes-langchain'),
			join(n8nModules, '@n8n', 'n8n-nodes-langchain'),
		);
		const main = write(join(root, 'strict', 'n8n', 'bin', 'n8n'), '');
		assert.equal(resolveN8nModule(SDK, { mainFilename: main }), own);
	});

	it('found through NODE_PATH when n8n’s main module is not n8n (a test runner, a custom launcher)', () => {
		const modules = join(root, 'nodepath', 'node_modules');
		const own = fakePackage(modules, SDK, 'n8n');
		const main = write(join(root, 'elsewhere', 'main.js'), '');
		assert.equal(
			resolveN8nModule(SDK, { mainFilename: main, nodePath: ['/nonexistent', modules].join(':') }),
			own,
		);
		assert.equal(resolveN8nModule(SDK, { mainFilename: main }), undefined);
	});

	it('loads n8n’s copy and zod-to-json-schema beside its utilities', () => {
		const modules = join(root, 'load', 'node_modules');
		const main = write(join(modules, 'n8n', 'bin', 'n8n'), '');
		fakePackage(modules, SDK, 'n8n', `\nrequire('@n8n/ai-utilities');`);
		fakePackage(modules, '@n8n/ai-utilities', 'utilities');
		write(
			join(modules, 'zod-to-json-schema', 'package.json'),
			JSON.stringify({ name: 'zod-to-json-schema', main: 'index.js' }),
		);
		write(
			join(modules, 'zod-to-json-schema', 'index.js'),
			`exports.zodToJsonSchema = () => ({ type: 'object', from: 'n8n' }); exports.default = exports.zodToJsonSchema;`,
		);
		const loaded = loadN8nAiModules({ mainFilename: main });
		assert.deepEqual(loaded.sdk, { which: 'n8n' });
		assert.deepEqual(loaded.zodToJsonSchema?.({}), { type: 'object', from: 'n8n' });
	});
});
