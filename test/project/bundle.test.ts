/** The published package carries each bundled SDK once: one shared bundle the entry files load. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import { ROOT, packedTarball } from '../harness/pack';

/** 6 MB, as npm counts them. */
const MAX_UNPACKED_BYTES = 6_000_000;

/** A string from each bundled package's own code, which the project's sources do not contain. */
const MARKERS: Record<string, string> = {
	'@anthropic-ai/sdk': 'anthropic-dangerous-direct-browser-access',
	openai: 'OPENAI_ORG_ID',
	'@google/genai': 'google-genai-sdk',
	ioredis: 'Reached the max retries per request limit',
};

interface Manifest {
	bin: Record<string, string>;
	n8n: { nodes: string[]; credentials: string[] };
}

function jsFiles(dir: string, prefix = ''): string[] {
	return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
		const path = prefix ? `${prefix}/${entry.name}` : entry.name;
		if (entry.isDirectory()) return jsFiles(dir, path);
		return path.endsWith('.js') ? [path] : [];
	});
}

describe('the packed package', () => {
	let tarball: string;
	let unpacked: string;

	before(() => {
		tarball = packedTarball();
		unpacked = mkdtempSync(join(tmpdir(), 'resilient-llm-bundle-'));
		execFileSync('tar', ['-xzf', tarball, '-C', unpacked, '--strip-components=1']);
	});

	after(() => rmSync(unpacked, { recursive: true, force: true }));

	it(`unpacks to at most ${MAX_UNPACKED_BYTES} bytes`, () => {
		const [packed] = JSON.parse(
			execFileSync('npm', ['pack', '--dry-run', '--json', tarball], {
				cwd: ROOT,
				encoding: 'utf8',
			}),
		) as Array<{ unpackedSize: number; files: Array<{ path: string; size: number }> }>;
		const largest = [...packed.files]
			.sort((a, b) => b.size - a.size)
			.slice(0, 4)
			.map((f) => `${f.path} ${f.size}`);
		assert.ok(
			packed.unpackedSize <= MAX_UNPACKED_BYTES,
			`unpacked ${packed.unpackedSize} bytes; largest files: ${largest.join(', ')}`,
		);
	});

	it('has the code of each bundled SDK in exactly one file', () => {
		const files = jsFiles(unpacked).map((path) => ({
			path,
			text: readFileSync(join(unpacked, path), 'utf8'),
		}));
		for (const [sdk, marker] of Object.entries(MARKERS)) {
			const holding = files.filter((f) => f.text.includes(marker)).map((f) => f.path);
			assert.equal(
				holding.length,
				1,
				`${sdk} ("${marker}") is in ${holding.length} files: ${holding.join(', ')}`,
			);
		}
	});

	it('has every node, credential and command file package.json names', () => {
		const manifest = JSON.parse(readFileSync(join(unpacked, 'package.json'), 'utf8')) as Manifest;
		const files = new Set(jsFiles(unpacked));
		for (const entry of [
			...manifest.n8n.nodes,
			...manifest.n8n.credentials,
			...Object.values(manifest.bin),
		])
			assert.ok(files.has(entry), `${entry} is not in the tarball`);
	});
});
