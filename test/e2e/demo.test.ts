/** npm run demo, as a newcomer runs it. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import type { Server } from 'node:net';
import { describe, it } from 'node:test';

import { freePort } from '../harness/n8n';
import { ROOT } from '../harness/pack';

/** Runs the demo with a user's environment (npm settings from the project's .npmrc). */
function demo(
	args: string[],
	timeoutMs: number,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
	const env = Object.fromEntries(
		Object.entries(process.env).filter(([key]) => !key.toLowerCase().startsWith('npm_config_')),
	);
	for (const key of ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY']) delete env[key];
	return new Promise((resolve, reject) => {
		const child = spawn('npm', ['run', 'demo', '--', ...args], {
			cwd: ROOT,
			env,
			stdio: ['ignore', 'pipe', 'pipe'],
			detached: true,
		});
		let stdout = '';
		let stderr = '';
		child.stdout.on('data', (d) => (stdout += d));
		child.stderr.on('data', (d) => (stderr += d));
		const timer = setTimeout(() => {
			process.kill(-child.pid!, 'SIGKILL');
			reject(new Error(`demo did not finish within ${timeoutMs} ms:\n${stdout}\n${stderr}`));
		}, timeoutMs);
		child.on('exit', (code) => {
			clearTimeout(timer);
			resolve({ code, stdout, stderr });
		});
	});
}

describe('npm run demo', () => {
	it('--once runs the outage drill, shows answers from tier 1, tier 2 and the human branch, and exits 0', async () => {
		const { code, stdout, stderr } = await demo(
			['--once', '--port', String(await freePort())],
			420_000,
		);
		assert.equal(code, 0, `${stdout}\n${stderr}`);
		// The demo's own lines stay in view: on a fresh machine n8n's install adds one line per
		// step, and npm's output goes to its log.
		const beforeDrill =
			stdout.slice(0, stdout.indexOf('\nphase 1/')).split('\n').length +
			stderr.split('\n').filter((line) => line.trim()).length;
		assert.ok(beforeDrill < 60, `${beforeDrill} lines before the drill:\n${stdout}\n${stderr}`);
		const row = (label: string) =>
			Number(
				new RegExp(`^${label}\\s+(\\d+)\\s+\\d+\\s+\\d+\\s+[\\d.]+$`, 'm').exec(stdout)?.[1] ?? 0,
			);
		// Eight tasks a phase: 3 support tickets (Anthropic first, then OpenAI), 2 refunds
		// (high-stakes: Anthropic's model or a person) and 3 documents (OpenAI first).
		const phase = (name: string) =>
			new RegExp(`^ {2}${name}\\s+(\\d+) / (\\d+) / (\\d+) / (\\d+)$`, 'm')
				.exec(stdout)
				?.slice(1)
				.map(Number);
		assert.deepEqual(phase('all providers up'), [8, 0, 0, 0]);
		assert.deepEqual(phase('primary down \\(Anthropic 529\\)'), [3, 3, 0, 2]);
		assert.deepEqual(phase('every provider down'), [0, 0, 0, 8]);
		assert.deepEqual(phase('recovered'), [8, 0, 0, 0]);
		// The breaker (on by default) kept the outage's circuits open: the recovered phase says
		// it waits out their cool-down, and that the probes closed the circuits its tasks use.
		const recovered = stdout.slice(stdout.indexOf('\nphase 4/'));
		assert.match(
			recovered,
			/circuit breaker: the outage opened \d+ circuits \([^)]*anthropic\/claude-haiku-4-5/,
		);
		assert.match(recovered, /waiting \d+ s for the cool-down/);
		assert.match(
			recovered,
			/probes answered, circuits closed again: .*anthropic\/claude-haiku-4-5.*openai\/gpt-4o-mini/,
		);
		// The support agent: Anthropic goes down in the middle of its phase-2 conversation; OpenAI
		// takes the conversation over, and each tool still runs once.
		const agent = [
			...stdout.matchAll(/^ {2}support agent: model calls (.*); tools ran: (.*)$/gm),
		].map((m) => [m[1], m[2]]);
		const bothOnce = 'Order Lookup 1, Refund Request 1';
		assert.deepEqual(agent.slice(0, 3), [
			['tier 1, tier 1, tier 1', bothOnce],
			['tier 1, tier 2, tier 2', bothOnce],
			['failed', 'Order Lookup 0, Refund Request 0'],
		]);
		assert.equal(agent[3]?.[1], bothOnce);
		// Tier 1 is named as failed or, when the breaker opened in phase 2, as skipped.
		assert.match(
			stdout,
			/escalated -> Slack: Every model in the chain failed; .*tier 1 anthropic\//,
		);
		// The agent on n8n's own chat model nodes: OpenAI answers while it is up, Groq while
		// OpenAI's model is down, Ollama while OpenAI's wire (Groq's too) is down; the order is
		// looked up once each time.
		const anyModel = stdout.slice(stdout.indexOf('\nany chat model as a tier'));
		const answeredBy = [...anyModel.matchAll(/^ {4}model calls: (.*)$/gm)].map((m) =>
			m[1].replace(/ after \d+ failed tries/g, ''),
		);
		const twice = (call: string) => `${call}, ${call}`;
		assert.deepEqual(answeredBy, [
			twice('tier 1 OpenAI Chat Model (gpt-4o-mini)'),
			twice('tier 2 Groq Chat Model (llama-3.3-70b-versatile)'),
			twice('tier 3 Ollama Chat Model (llama3.2)'),
		]);
		assert.deepEqual(
			[...anyModel.matchAll(/^ {4}tools ran: (.*)$/gm)].map((m) => m[1]),
			Array(3).fill('Order Lookup 1'),
		);
		assert.equal(row('tier 1'), 19);
		assert.equal(row('tier 2'), 3);
		assert.equal(row('needs human'), 10);
		// Today's spend per model adds up to the answers the table counts.
		const spend = stdout.slice(stdout.indexOf('\nspend today ('));
		const models = [...spend.matchAll(/^ {2}(\S+\/\S+)\s+(\d+) answers\s+\$([\d.]+)$/gm)];
		assert.ok(models.length >= 2, spend);
		assert.equal(
			models.reduce((sum, m) => sum + Number(m[2]), 0),
			row('tier 1') + row('tier 2'),
		);
		assert.ok(
			models.every((m) => Number(m[3]) > 0),
			spend,
		);
		assert.match(stdout, /^reviews pending: [1-9]\d*$/m);
		assert.match(stdout, /http:\/\/127\.0\.0\.1:\d+\/webhook-waiting\/\d+\?signature=[0-9a-f]+/);
		assert.match(stdout, /stopping n8n, the emulator and the fakes/);
	});

	it('says which port is busy and exits non-zero', async () => {
		const port = await freePort();
		const blocker: Server = createServer();
		await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', () => resolve()));
		try {
			const { code, stderr } = await demo(['--once', '--port', String(port)], 60_000);
			assert.notEqual(code, 0);
			assert.match(stderr, new RegExp(`port ${port} is busy`));
		} finally {
			blocker.close();
		}
	});
});
