/**
 * npm run scan: n8n's community package scanner (@n8n/scan-community-package), offline.
 *
 * The published scanner takes a version from npm, checks its provenance, and lints two
 * things: the source its provenance names, and the tarball. Here the same lint, with the
 * scanner's own rules and file patterns, runs on this checkout and on the tarball `npm pack`
 * makes, so it needs no network and no published version. It prints the findings per rule
 * and file, then their count as one JSON line so it can be tracked, and fails when a rule
 * turns up that the README's Compatibility section does not explain.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';

import { ESLint } from 'eslint';
import type { Linter } from 'eslint';

import { ROOT, packedTarball } from '../test/harness/pack';

const SCANNER = '@n8n/scan-community-package/scanner/scanner.mjs';
/** What the scanner lints in the downloaded tarball (scanner.mjs, analyzePackageByName). */
export const TARBALL_PATTERNS = ['**/*.js', 'package.json'];

interface Scanner {
	buildScanConfig(): Promise<Linter.Config[]>;
	SOURCE_FILE_PATTERNS: string[];
}

export interface Finding {
	leg: 'source' | 'tarball';
	file: string;
	rule: string;
}

async function lint(
	scanner: Scanner,
	cwd: string,
	patterns: string[],
	leg: Finding['leg'],
): Promise<{ files: number; findings: Finding[] }> {
	const eslint = new ESLint({
		cwd,
		allowInlineConfig: false,
		overrideConfigFile: true,
		overrideConfig: await scanner.buildScanConfig(),
	});
	const results = await eslint.lintFiles(patterns);
	const findings = results.flatMap((result) =>
		result.messages
			.filter((message) => message.severity === 2)
			.map((message) => ({
				leg,
				file: relative(cwd, result.filePath),
				rule: message.ruleId ?? '(parse error)',
			})),
	);
	return { files: results.length, findings };
}

/** The rules the README's Compatibility section names (in backticks). */
export function explainedRules(readme: string): Set<string> {
	const start = readme.indexOf('\n## Compatibility\n');
	if (start === -1) return new Set();
	const end = readme.indexOf('\n## ', start + 1);
	const section = readme.slice(start, end === -1 ? undefined : end);
	return new Set([...section.matchAll(/`([@\w/-]+)`/g)].map((m) => m[1]));
}

/** Counts per rule, then per leg and file, largest first. */
export function summarise(findings: Finding[]): Array<[string, number, Array<[string, number]>]> {
	const rules = new Map<string, Map<string, number>>();
	for (const finding of findings) {
		const files = rules.get(finding.rule) ?? new Map<string, number>();
		const where = `${finding.leg}: ${finding.file}`;
		files.set(where, (files.get(where) ?? 0) + 1);
		rules.set(finding.rule, files);
	}
	const total = (files: Map<string, number>) => [...files.values()].reduce((a, b) => a + b, 0);
	return [...rules.entries()]
		.map(([rule, files]): [string, number, Array<[string, number]>] => [
			rule,
			total(files),
			[...files.entries()].sort((a, b) => b[1] - a[1]),
		])
		.sort((a, b) => b[1] - a[1]);
}

/** Loads the scanner with the temporary folder it makes on loading inside `dir`. */
async function loadScanner(dir: string): Promise<Scanner> {
	const previous = process.env.TMPDIR;
	process.env.TMPDIR = dir;
	try {
		return (await import(SCANNER)) as Scanner;
	} finally {
		if (previous === undefined) delete process.env.TMPDIR;
		else process.env.TMPDIR = previous;
	}
}

async function main(): Promise<void> {
	const work = mkdtempSync(join(tmpdir(), 'resilient-llm-scan-'));
	try {
		await scan(work);
	} finally {
		rmSync(work, { recursive: true, force: true });
	}
}

async function scan(work: string): Promise<void> {
	const scanner = await loadScanner(work);
	const version = (
		JSON.parse(
			readFileSync(
				join(ROOT, 'node_modules', '@n8n', 'scan-community-package', 'package.json'),
				'utf8',
			),
		) as { version: string }
	).version;
	const say = (line: string) => process.stdout.write(`${line}\n`);
	say(`n8n community package scan: @n8n/scan-community-package ${version}, offline`);

	const tarball = packedTarball();
	const unpacked = join(work, 'package');
	mkdirSync(unpacked);
	execFileSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1']);
	const source = await lint(scanner, ROOT, scanner.SOURCE_FILE_PATTERNS, 'source');
	const packed = await lint(scanner, unpacked, TARBALL_PATTERNS, 'tarball');
	say(
		`source (${scanner.SOURCE_FILE_PATTERNS.join(', ')}; ${source.files} files): ${source.findings.length} findings`,
	);
	say(
		`tarball ${basename(tarball)} (${TARBALL_PATTERNS.join(', ')}; ${packed.files} files): ${packed.findings.length} findings`,
	);
	const findings = [...source.findings, ...packed.findings];
	const summary = summarise(findings);
	for (const [rule, count, files] of summary) {
		say(`  ${rule.padEnd(66)}${String(count).padStart(6)}`);
		for (const [where, n] of files) say(`      ${where.padEnd(62)}${String(n).padStart(6)}`);
	}
	const explained = explainedRules(readFileSync(join(ROOT, 'README.md'), 'utf8'));
	const unexplained = summary.map(([rule]) => rule).filter((rule) => !explained.has(rule));
	say(
		`scan findings: ${findings.length}${unexplained.length ? '' : " (each rule is explained in the README's Compatibility section)"}`,
	);
	say(
		JSON.stringify({
			scan_findings: findings.length,
			source: source.findings.length,
			tarball: packed.findings.length,
			by_rule: Object.fromEntries(summary.map(([rule, count]) => [rule, count])),
		}),
	);
	if (unexplained.length) {
		process.stderr.write(
			`scan: the README's Compatibility section does not explain ${unexplained.join(', ')}: say there why the package has them, or remove them\n`,
		);
		process.exitCode = 1;
	}
}

if (require.main === module) {
	main().catch((error: unknown) => {
		process.stderr.write(
			`scan failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
		);
		process.exit(2);
	});
}
