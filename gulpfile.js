/**
 * The build. n8n loads each node and credential file from dist on its own, so each is
 * bundled with what it uses (the provider SDKs included): the published package has no
 * runtime dependencies to clash with n8n's. n8n-workflow stays external: n8n provides it.
 * The AI node SDK stays external too: n8n provides it, and Resilient Chat Model loads n8n's own
 * copy at run time (nodes/ResilientChatModel/n8nModules.ts), never one npm put beside the
 * package. NODE_PATH, where n8n puts its own modules, serves require() only, so dynamic
 * imports become require().
 * Icons and codex files are copied next to the compiled node files, where n8n looks for them.
 */
const path = require('path');
const { task, src, dest, parallel } = require('gulp');
const esbuild = require('esbuild');

const pkg = require('./package.json');

function sourceOf(distFile) {
	return distFile.replace(/^dist\//, '').replace(/\.js$/, '.ts');
}

function bundle() {
	const entryPoints = [
		...pkg.n8n.nodes,
		...pkg.n8n.credentials,
		pkg.bin['resilient-llm-emulator'],
	].map((file) => ({ in: sourceOf(file), out: file.replace(/^dist\//, '').replace(/\.js$/, '') }));
	return esbuild.build({
		entryPoints,
		outdir: 'dist',
		bundle: true,
		platform: 'node',
		format: 'cjs',
		target: 'node20',
		external: ['n8n-workflow', '@n8n/ai-node-sdk'],
		supported: { 'dynamic-import': false },
		logLevel: 'warning',
	});
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
task('build', parallel(bundle, copyIcons, copyCodex));

module.exports = { sourceOf };
