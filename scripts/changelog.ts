/**
 * The `version` step of `npm version`: after npm has bumped package.json and before it commits
 * and tags, CHANGELOG.md's Unreleased section becomes the new version's section (dated, with
 * its compare link) and the README's Version history gets the version's line, so the three
 * never disagree. The Unreleased section must open with a one-paragraph summary: that is the
 * README's line.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..');
const UNRELEASED = '## [Unreleased]';
const HISTORY = '## Version history';

/** The repository's web address, from package.json's `repository`. */
export function repositoryUrl(manifest: { repository?: { url?: string } | string }): string {
	const raw =
		typeof manifest.repository === 'string' ? manifest.repository : manifest.repository?.url;
	if (!raw) throw new Error('package.json has no repository');
	return raw.replace(/^git\+/, '').replace(/\.git$/, '');
}

/** GitHub's anchor for a CHANGELOG heading such as `## [0.2.0] - 2026-12-01`. */
export function changelogAnchor(version: string, date: string): string {
	return `${version.replace(/\./g, '')}---${date}`;
}

export interface Release {
	version: string;
	/** YYYY-MM-DD */
	date: string;
	repository: string;
}

/** A Keep a Changelog file split into its intro, its `## [x]` sections and its link list. */
function sections(changelog: string): { head: string; parts: string[]; links: string } {
	const linksAt = changelog.search(/^\[[^\]]+\]: /m);
	const body = linksAt === -1 ? changelog : changelog.slice(0, linksAt);
	const links = linksAt === -1 ? '' : changelog.slice(linksAt);
	const [head, ...rest] = body.split(/^(?=## \[)/m);
	return { head, parts: rest, links };
}

/** Released versions in CHANGELOG.md, newest first, with their dates. */
export function releasedVersions(changelog: string): Array<{ version: string; date: string }> {
	return [...changelog.matchAll(/^## \[(\d+\.\d+\.\d+[^\]]*)\] - (\d{4}-\d{2}-\d{2})$/gm)].map(
		(m) => ({ version: m[1], date: m[2] }),
	);
}

/** CHANGELOG.md with Unreleased moved into the new version; returns it and the summary. */
export function releaseChangelog(
	changelog: string,
	{ version, date, repository }: Release,
): { changelog: string; summary: string } {
	const { head, parts, links } = sections(changelog);
	const unreleasedIndex = parts.findIndex((p) => p.startsWith(UNRELEASED));
	if (unreleasedIndex !== 0)
		throw new Error(`CHANGELOG.md must start its versions with "${UNRELEASED}"`);
	if (releasedVersions(changelog).some((r) => r.version === version))
		throw new Error(`CHANGELOG.md already has a section for ${version}`);
	const notes = parts[0].slice(UNRELEASED.length).trim();
	if (!notes)
		throw new Error(
			`CHANGELOG.md's Unreleased section is empty: describe what ${version} changes first`,
		);
	const [firstParagraph] = notes.split(/\n\s*\n/);
	if (firstParagraph.startsWith('#') || firstParagraph.startsWith('-'))
		throw new Error(
			"CHANGELOG.md's Unreleased section must open with a one-paragraph summary (the README's Version history shows it)",
		);
	const summary = firstParagraph.replace(/\s*\n\s*/g, ' ').trim();

	const previous = releasedVersions(changelog)[0]?.version;
	const linkLines = links
		.split('\n')
		.filter((line) => line.trim() && !/^\[unreleased\]: /i.test(line));
	const newLinks = [
		`[unreleased]: ${repository}/compare/v${version}...HEAD`,
		previous
			? `[${version}]: ${repository}/compare/v${previous}...v${version}`
			: `[${version}]: ${repository}/releases/tag/v${version}`,
		...linkLines,
	];
	const released = [
		`${UNRELEASED}\n\n`,
		`## [${version}] - ${date}\n\n${notes}\n\n`,
		...parts.slice(1),
	].join('');
	return { changelog: `${head}${released}${newLinks.join('\n')}\n`, summary };
}

/** The README's Version history line for a version. */
export function historyLine(release: Release, summary: string): string {
	const link = `${release.repository}/blob/main/CHANGELOG.md#${changelogAnchor(release.version, release.date)}`;
	return `- **${release.version}** (${release.date}): ${summary} [All changes](${link}).`;
}

/** README.md with the version's line first in its Version history. */
export function releaseReadme(readme: string, release: Release, summary: string): string {
	const start = readme.indexOf(`\n${HISTORY}\n`);
	if (start === -1) throw new Error(`README.md has no "${HISTORY}" section`);
	const end = readme.indexOf('\n## ', start + HISTORY.length + 2);
	const section = readme.slice(start, end === -1 ? undefined : end);
	if (section.includes(`- **${release.version}** `))
		throw new Error(`README.md's Version history already lists ${release.version}`);
	const firstEntry = section.indexOf('\n- **');
	const insertAt = firstEntry === -1 ? start + section.trimEnd().length : start + firstEntry;
	const line = historyLine(release, summary);
	return firstEntry === -1
		? `${readme.slice(0, insertAt)}\n\n${line}${readme.slice(insertAt)}`
		: `${readme.slice(0, insertAt)}\n${line}${readme.slice(insertAt)}`;
}

/** Updates CHANGELOG.md and README.md in `root` for package.json's (new) version. */
export function main(root = ROOT): void {
	const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
		version: string;
		repository?: { url?: string };
	};
	const release: Release = {
		version: manifest.version,
		date: new Date().toISOString().slice(0, 10),
		repository: repositoryUrl(manifest),
	};
	const changelogPath = join(root, 'CHANGELOG.md');
	const readmePath = join(root, 'README.md');
	const { changelog, summary } = releaseChangelog(readFileSync(changelogPath, 'utf8'), release);
	const readme = releaseReadme(readFileSync(readmePath, 'utf8'), release, summary);
	writeFileSync(changelogPath, changelog);
	writeFileSync(readmePath, readme);
	process.stdout.write(
		`CHANGELOG.md and README.md: ${release.version} (${release.date}): ${summary}\n`,
	);
}

if (require.main === module) {
	try {
		main(process.argv[2] ? resolve(process.argv[2]) : ROOT);
	} catch (error) {
		process.stderr.write(`version: ${error instanceof Error ? error.message : String(error)}\n`);
		process.exit(1);
	}
}
