/** npm run scan: n8n's community package scanner, run offline as its published CLI runs it. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import { TARBALL_PATTERNS, explainedRules, summarise } from '../../scripts/scan';
import { ROOT } from '../harness/pack';

describe('npm run scan', () => {
	it("lints the tarball with the scanner's own file patterns", () => {
		// The published scanner lints the downloaded tarball with a literal list: if an upgrade
		// changes it, scripts/scan.ts must follow.
		const scanner = readFileSync(
			join(ROOT, 'node_modules', '@n8n', 'scan-community-package', 'scanner', 'scanner.mjs'),
			'utf8',
		);
		const literal = `[${TARBALL_PATTERNS.map((pattern) => `'${pattern}'`).join(', ')}]`;
		assert.ok(
			scanner.includes(`analyzePackage(packageDir, ${literal})`),
			'the scanner no longer lints the tarball with the patterns scripts/scan.ts uses',
		);
	});

	it("reads the explained rules from the README's Compatibility section only", () => {
		const readme =
			'## Usage\n`no-console`\n\n## Compatibility\n| `@n8n/community-nodes/x` | y |\n\n## Usage\n`other`\n';
		assert.deepEqual([...explainedRules(readme)], ['@n8n/community-nodes/x']);
		const real = explainedRules(readFileSync(join(ROOT, 'README.md'), 'utf8'));
		assert.ok(real.has('@n8n/community-nodes/no-restricted-imports'));
	});

	it('counts findings per rule, then per file, largest first', () => {
		assert.deepEqual(
			summarise([
				{ leg: 'tarball', file: 'dist/a.js', rule: 'no-console' },
				{ leg: 'source', file: 'nodes/b.ts', rule: 'r' },
				{ leg: 'tarball', file: 'dist/a.js', rule: 'r' },
				{ leg: 'tarball', file: 'dist/c.js', rule: 'r' },
				{ leg: 'tarball', file: 'dist/c.js', rule: 'r' },
			]),
			[
				[
					'r',
					4,
					[
						['tarball: dist/c.js', 2],
						['source: nodes/b.ts', 1],
						['tarball: dist/a.js', 1],
					],
				],
				['no-console', 1, [['tarball: dist/a.js', 1]]],
			],
		);
	});
});
