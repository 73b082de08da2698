/** What npm's page, n8n's community package tools and provenance read from package.json. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { ROOT } from '../harness/pack';

const REPOSITORY = 'https://github.com/resilient-llm/n8n-nodes-resilient-llm';

interface Manifest {
	name: string;
	author?: { name?: string; email?: string; url?: string };
	homepage?: string;
	repository?: { type?: string; url?: string };
	bugs?: { url?: string };
	files?: string[];
	scripts: Record<string, string>;
	n8n: { strict?: boolean };
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;

describe('package.json', () => {
	it('names one repository for provenance, bugs and the homepage', () => {
		// npm provenance is checked against `repository`; the homepage is the repository's README.
		assert.deepEqual(manifest.repository, { type: 'git', url: `git+${REPOSITORY}.git` });
		assert.equal(manifest.bugs?.url, `${REPOSITORY}/issues`);
		assert.equal(manifest.homepage, `${REPOSITORY}#readme`);
	});

	it('has a real author: a name and a way to reach the maintainers, no placeholder address', () => {
		assert.equal(manifest.author?.name, 'Resilient LLM maintainers');
		assert.equal(manifest.author?.url, `${REPOSITORY}/issues`);
		assert.equal(manifest.author?.email, undefined);
	});

	it('runs n8n-node lint in npm run lint, and so in npm test', () => {
		assert.match(manifest.scripts.lint, /^n8n-node lint && /);
		assert.match(manifest.scripts.test, /^npm run lint && /);
		// Strict mode demands n8n's default eslint.config.mjs (the Cloud rules): see the README.
		assert.equal(manifest.n8n.strict, false);
	});

	it('publishes the changelog, the licence and the README beside dist', () => {
		const [packed] = JSON.parse(
			execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
				cwd: ROOT,
				encoding: 'utf8',
			}),
		) as Array<{ files: Array<{ path: string }> }>;
		const paths = packed.files.map((f) => f.path);
		const besideDist = ['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE'];
		for (const file of besideDist)
			assert.ok(paths.includes(file), `${file} is not in the tarball: ${paths.join(', ')}`);
		assert.deepEqual(
			paths.filter((p) => !besideDist.includes(p) && !p.startsWith('dist/')),
			[],
		);
	});
});

describe('README.md on npm', () => {
	const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
	const RAW = 'https://raw.githubusercontent.com/resilient-llm/n8n-nodes-resilient-llm/main/';

	/** Markdown images and HTML <img> tags. */
	function images(text: string): string[] {
		return [
			...[...text.matchAll(/!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
			...[...text.matchAll(/<img\b[^>]*\bsrc=["']([^"']+)["']/gi)].map((m) => m[1]),
		];
	}

	it('finds the images in both markdown and HTML form', () => {
		assert.deepEqual(images('![a](docs/a.png) <img alt="b" src="https://x/b.png">'), [
			'docs/a.png',
			'https://x/b.png',
		]);
	});

	it('loads every image from the repository by absolute URL, and each is a file in docs/', () => {
		// npm's page shows the README without the repository's files: a relative image breaks.
		const found = images(readme);
		assert.ok(found.length > 0, 'the README shows no image');
		for (const url of found) {
			assert.ok(url.startsWith(`${RAW}docs/`), `${url} is not under ${RAW}docs/`);
			const file = url.slice(RAW.length);
			assert.doesNotThrow(
				() => readFileSync(join(ROOT, file)),
				`${url} points at ${file}, which the repository does not have`,
			);
		}
	});

	it('keeps the community-node sections people look for', () => {
		const headings = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
		for (const heading of [
			'Installation',
			'Operations',
			'Credentials',
			'Compatibility',
			'Usage',
			'Resources',
			'Version history',
		])
			assert.ok(headings.includes(heading), `no "## ${heading}" in ${headings.join(', ')}`);
		assert.equal(headings.at(-1), 'Version history');
		// The two set-up commands stay at the top.
		assert.ok(readme.indexOf('npm install && npm run demo') < readme.indexOf('\n## Installation'));
	});
});
