/**
 * The build. Everything the package runs is in one bundle, dist/shared/bundle.js: the code of
 * every node, credential and the emulator command, with the provider SDKs and `ioredis`, each
 * once. The published package has no runtime dependencies to clash with n8n's.
 * n8n loads each node and credential file on its own (package.json "n8n"), so each of those
 * files, like the emulator command, is a stub that takes its module from the shared bundle:
 * n8n loads the bundle once, the nodes share its modules (and their state), and a module runs
 * on the first load of a file that uses it.
 * n8n-workflow stays external: n8n provides it. The AI node SDK stays external too: n8n
 * provides it, and Resilient Chat Model loads n8n's own copy at run time
 * (nodes/ResilientChatModel/n8nModules.ts), never one npm put beside the package. NODE_PATH,
 * where n8n puts its own modules, serves require() only, so dynamic imports become require().
 * Icons and codex files are copied next to the node files, where n8n looks for them.
 */
const fs = require('fs');
const path = require('path');
const { task, src, dest, parallel, series } = require('gulp');
const esbuild = require('esbuild');

const pkg = require('./package.json');

const SHARED_BUNDLE = 'dist/shared/bundle.js';

function sourceOf(distFile) {
	return distFile.replace(/^dist\//, '').replace(/\.js$/, '.ts');
}

/** The package's entry files in dist: n8n's nodes and credentials, and the commands. */
function entryFiles() {
	return [...pkg.n8n.nodes, ...pkg.n8n.credentials, ...Object.values(pkg.bin)];
}

/** The shared bundle's source: for each entry file, a function that loads its module. */
function sharedEntrySource(entries) {
	return entries
		.map(
			(file) =>
				`exports[${JSON.stringify(file)}] = () => require(${JSON.stringify(`./${sourceOf(file)}`)});`,
		)
		.join('\n');
}

/** An entry file: the source's hashbang, if any, then its module from the shared bundle. */
function stubSource(file) {
	const first = fs.readFileSync(sourceOf(file), 'utf8').split('\n', 1)[0];
	const hashbang = first.startsWith('#!') ? `${first}\n` : '';
	const bundle = path.posix.relative(path.posix.dirname(file), SHARED_BUNDLE);
	const request = bundle.startsWith('.') ? bundle : `./${bundle}`;
	return `${hashbang}"use strict";\nmodule.exports = require(${JSON.stringify(request)})[${JSON.stringify(file)}]();\n`;
}

async function bundle() {
	const entries = entryFiles();
	await esbuild.build({
		stdin: {
			contents: sharedEntrySource(entries),
			resolveDir: __dirname,
			sourcefile: 'entries.js',
		},
		outfile: SHARED_BUNDLE,
		bundle: true,
		platform: 'node',
		format: 'cjs',
		target: 'node20',
		external: ['n8n-workflow', '@n8n/ai-node-sdk'],
		supported: { 'dynamic-import': false },
		logLevel: 'warning',
	});
	for (const file of entries) {
		const source = stubSource(file);
		fs.mkdirSync(path.dirname(file), { recursive: true });
		fs.writeFileSync(file, source);
		fs.chmodSync(file, source.startsWith('#!') ? 0o755 : 0o644);
	}
}

/** A file a former build left (a renamed node, say) would be published: each build starts empty. */
async function clean() {
	fs.rmSync('dist', { recursive: true, force: true });
}

function copyIcons() {
	return src(['nodes/**/*.{png,svg}', 'credentials/**/*.{png,svg}'], {
		encoding: false,
		base: '.',
	}).pipe(dest('dist'));
}

function copyCodex() {
	return src('nodes/**/*.node.json', { base: '.' }).pipe(dest('dist'));
}

task('build:bundle', bundle);
task('build:icons', copyIcons);
task('build', series(clean, parallel(bundle, copyIcons, copyCodex)));

module.exports = { sourceOf };
