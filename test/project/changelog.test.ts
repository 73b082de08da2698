/** CHANGELOG.md, the README's Version history and package.json's version stay in step. */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import {
	historyLine,
	releaseChangelog,
	releaseReadme,
	releasedVersions,
	repositoryUrl,
} from '../../scripts/changelog';
import { ROOT } from '../harness/pack';

const REPOSITORY = 'https://github.com/resilient-llm/n8n-nodes-resilient-llm';
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** The summary paragraph that opens a released version's section. */
function summaryOf(changelog: string, version: string): string {
	const start = changelog.indexOf(`## [${version}] - `);
	const body = changelog.slice(changelog.indexOf('\n', start)).trimStart();
	return body.split(/\n\s*\n/)[0].replace(/\s*\n\s*/g, ' ');
}

describe('the changelog in this repository', () => {
	const changelog = read('CHANGELOG.md');
	const readme = read('README.md');
	const manifest = JSON.parse(read('package.json')) as {
		version: string;
		repository: { url: string };
	};

	it("has an Unreleased section first, and a dated section for package.json's version", () => {
		assert.ok(changelog.indexOf('## [Unreleased]') < changelog.indexOf('\n## [0.'));
		assert.ok(
			releasedVersions(changelog).some((r) => r.version === manifest.version),
			`CHANGELOG.md has no section for ${manifest.version}`,
		);
	});

	it('links every version to its changes', () => {
		assert.match(changelog, /^\[unreleased\]: \S+\/compare\/v[\d.]+\.\.\.HEAD$/m);
		for (const { version } of releasedVersions(changelog))
			assert.match(
				changelog,
				new RegExp(`^\\[${version.replace(/\./g, '\\.')}\\]: ${REPOSITORY}/`, 'm'),
			);
	});

	it("lists each released version in the README's Version history, newest first", () => {
		const history = readme.slice(readme.indexOf('\n## Version history\n'));
		const lines = history.split('\n').filter((line) => line.startsWith('- **'));
		const repository = repositoryUrl(manifest);
		assert.deepEqual(
			lines,
			releasedVersions(changelog).map((r) =>
				historyLine({ ...r, repository }, summaryOf(changelog, r.version)),
			),
		);
	});
});

const BEFORE = `# Changelog

Intro.

## [Unreleased]

Faster failover and a Mistral tier,
in two lines.

### Added

- Mistral.

## [0.1.0] - 2026-11-28

First release.

[unreleased]: ${REPOSITORY}/compare/v0.1.0...HEAD
[0.1.0]: ${REPOSITORY}/releases/tag/v0.1.0
`;

const README = `# x

## Resources

- a

## Version history

Each version's changes are in CHANGELOG.md.

- **0.1.0** (2026-11-28): First release. [All changes](x).
`;

const RELEASE = { version: '0.2.0', date: '2026-12-01', repository: REPOSITORY };

describe('npm version: scripts/changelog.ts', () => {
	it("turns Unreleased into the version's dated section, with a fresh Unreleased and links", () => {
		const { changelog, summary } = releaseChangelog(BEFORE, RELEASE);
		assert.equal(summary, 'Faster failover and a Mistral tier, in two lines.');
		assert.equal(
			changelog,
			`# Changelog

Intro.

## [Unreleased]

## [0.2.0] - 2026-12-01

Faster failover and a Mistral tier,
in two lines.

### Added

- Mistral.

## [0.1.0] - 2026-11-28

First release.

[unreleased]: ${REPOSITORY}/compare/v0.2.0...HEAD
[0.2.0]: ${REPOSITORY}/compare/v0.1.0...v0.2.0
[0.1.0]: ${REPOSITORY}/releases/tag/v0.1.0
`,
		);
	});

	it("puts the version's line first in the README's Version history, linked to its section", () => {
		const readme = releaseReadme(README, RELEASE, 'Faster failover.');
		assert.match(
			readme,
			new RegExp(
				`CHANGELOG.md.\n\n- \\*\\*0\\.2\\.0\\*\\* \\(2026-12-01\\): Faster failover\\. \\[All changes\\]\\(${REPOSITORY}/blob/main/CHANGELOG\\.md#020---2026-12-01\\)\\.\n- \\*\\*0\\.1\\.0\\*\\*`,
			),
		);
		assert.match(
			releaseReadme(README.replace(/\n- \*\*0\.1\.0.*\n/, '\n'), RELEASE, 'First.'),
			/CHANGELOG\.md\.\n\n- \*\*0\.2\.0\*\* \(2026-12-01\): First\. /,
		);
	});

	it('refuses an empty Unreleased section, one without a summary, and a version released before', () => {
		const empty = BEFORE.replace(
			/## \[Unreleased\][\s\S]*?(?=## \[0\.1\.0\])/,
			'## [Unreleased]\n\n',
		);
		assert.throws(() => releaseChangelog(empty, RELEASE), /Unreleased section is empty/);
		const bare = BEFORE.replace('Faster failover and a Mistral tier,\nin two lines.\n\n', '');
		assert.throws(() => releaseChangelog(bare, RELEASE), /one-paragraph summary/);
		assert.throws(
			() => releaseChangelog(BEFORE, { ...RELEASE, version: '0.1.0' }),
			/already has a section for 0\.1\.0/,
		);
		assert.throws(
			() => releaseReadme(README, { ...RELEASE, version: '0.1.0' }, 'x'),
			/already lists 0\.1\.0/,
		);
	});

	it('runs as the version step of a real npm version: one commit and tag with all three files', () => {
		const dir = mkdtempSync(join(tmpdir(), 'resilient-llm-version-'));
		try {
			const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
			const script = join(ROOT, 'scripts', 'changelog.ts');
			writeFileSync(
				join(dir, 'package.json'),
				JSON.stringify({
					name: 'version-test',
					version: '0.1.0',
					repository: { type: 'git', url: `git+${REPOSITORY}.git` },
					scripts: { version: `"${tsx}" "${script}" . && git add CHANGELOG.md README.md` },
				}),
			);
			writeFileSync(join(dir, 'CHANGELOG.md'), BEFORE);
			writeFileSync(join(dir, 'README.md'), README);
			const git = (...args: string[]) =>
				execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
			git('init', '-q', '-b', 'main');
			git('-c', 'user.name=t', '-c', 'user.email=t@example.test', 'add', '.');
			git('-c', 'user.name=t', '-c', 'user.email=t@example.test', 'commit', '-qm', 'start');
			const env = {
				...process.env,
				GIT_AUTHOR_NAME: 't',
				GIT_AUTHOR_EMAIL: 't@example.test',
				GIT_COMMITTER_NAME: 't',
				GIT_COMMITTER_EMAIL: 't@example.test',
			};
			const bump = spawnSync('npm', ['version', 'minor', '--loglevel=error'], {
				cwd: dir,
				env,
				encoding: 'utf8',
			});
			assert.equal(bump.status, 0, bump.stderr);
			assert.equal(git('tag', '--list'), 'v0.2.0');
			assert.deepEqual(git('show', '--name-only', '--format=', 'HEAD').split('\n').sort(), [
				'CHANGELOG.md',
				'README.md',
				'package.json',
			]);
			const today = new Date().toISOString().slice(0, 10);
			const changelog = readFileSync(join(dir, 'CHANGELOG.md'), 'utf8');
			assert.match(changelog, new RegExp(`## \\[Unreleased\\]\n\n## \\[0\\.2\\.0\\] - ${today}\n`));
			assert.match(
				readFileSync(join(dir, 'README.md'), 'utf8'),
				new RegExp(`\n- \\*\\*0\\.2\\.0\\*\\* \\(${today}\\): Faster failover`),
			);

			// Nothing written under Unreleased since: the next bump stops before its commit.
			const again = spawnSync('npm', ['version', 'patch', '--loglevel=error'], {
				cwd: dir,
				env,
				encoding: 'utf8',
			});
			assert.notEqual(again.status, 0);
			assert.match(again.stderr, /Unreleased section is empty/);
			assert.equal(git('tag', '--list'), 'v0.2.0');
		} finally {
			rmSync(dir, { recursive: true, force: true });
		}
	});
});
