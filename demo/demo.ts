/**
 * npm run demo [-- --once] [--port 5678]
 *
 * Starts the provider emulator, the Slack, Jira and SMTP fakes and n8n (SQLite, user folder
 * .n8n-demo/ in the project) with this package, imports the example workflows, and runs an
 * outage drill: tasks through every workflow while the primary goes down (in the middle of a
 * support agent's conversation), then every provider, then all recover (once the circuits
 * the outage opened have cooled down, one probe each closes them). Then a support agent on n8n's
 * own OpenAI, Groq and Ollama Chat Model nodes, connected to Resilient Chat Model, through an
 * OpenAI outage. Prints a table of what each tier answered, then leaves n8n
 * running until Ctrl-C. --once exits after the drill. Real keys in ANTHROPIC_API_KEY,
 * OPENAI_API_KEY or GEMINI_API_KEY send those providers' calls to the real APIs instead.
 */
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import type { Scenario, Turn } from '../lib/emulator/scenario';
import { SqliteStateStore } from '../lib/state/sqliteStore';
import { OWNER } from '../test/harness/n8n';
import type { Execution } from '../test/harness/n8n';
import { ROOT } from '../test/harness/pack';
import { Stack, workflowFiles } from '../test/harness/stack';
import { LLM_TYPE } from '../test/support/workflows';
import { ANY_MODEL_FILE, anyModelAgent } from './anyModelAgent';
import { chatModelCalls } from './chatModelCalls';

const USER_FOLDER = join(ROOT, '.n8n-demo');
const LLM_NODES = ['Summarise Ticket', 'Assess Refund', 'Summarise Documents'];
const LINK = /http:\/\/127\.0\.0\.1:\d+\/webhook-waiting\/\d+\?signature=[0-9a-f]+/;

interface Phase {
	name: string;
	scenario: Scenario;
	/** Waits for the circuits the outage opened to cool down, and shows their probes close them. */
	afterCoolDown?: boolean;
}

/** The embedded state store the Resilient LLM nodes of this n8n share (n8n's node storage folder). */
const STATE_STORE = join(USER_FOLDER, '.n8n', 'storage', LLM_TYPE, 'state.sqlite');

/** Refund decisions must be JSON; every other answer is the emulator's default text. */
const REFUND_REPLY = {
	provider: 'anthropic' as const,
	model: 'claude-sonnet-4-5',
	reply: '{"decision": "approve", "reason": "Damaged on delivery, within 30 days."}',
};

/** The support agent's side of its conversation: look the order up, request the refund, answer. */
const SUPPORT_TURNS: Turn[] = [
	{ toolCalls: [{ name: 'Order_Lookup', arguments: { orderId: '1001' } }] },
	{
		toolCalls: [
			{ name: 'Refund_Request', arguments: { orderId: '1001', reason: 'arrived cracked' } },
		],
	},
	{ reply: 'Your blender order 1001 qualifies for a refund, which is now requested.' },
];

/**
 * Real models' pace, as the emulator's realistic profile draws it: the first words after
 * 400-900 ms, then 40-80 words a second, streamed to whoever reads a stream. Answers are kept
 * short (20-60 words), so each takes about a second; errors still come in 40 ms.
 */
const PACE: Scenario = { profile: 'realistic', stream: { answerTokens: [20, 60] }, latencyMs: 40 };

// Each phase starts with a support agent conversation, so in "primary down" Anthropic answers
// the agent's first model call and goes down in the middle of its conversation.
const PHASES: Phase[] = [
	{
		name: 'all providers up',
		scenario: { ...PACE, turns: SUPPORT_TURNS, rules: [REFUND_REPLY] },
	},
	{
		name: 'primary down (Anthropic 529)',
		scenario: {
			...PACE,
			turns: SUPPORT_TURNS,
			rules: [{ provider: 'anthropic', fault: 'overloaded', afterCalls: 1 }],
		},
	},
	{
		name: 'every provider down',
		scenario: { ...PACE, turns: SUPPORT_TURNS, rules: [{ fault: 'server_error' }] },
	},
	{
		name: 'recovered',
		scenario: { ...PACE, turns: SUPPORT_TURNS, rules: [REFUND_REPLY] },
		afterCoolDown: true,
	},
];

function say(line: string): void {
	process.stdout.write(`${line}\n`);
}

async function portIsFree(port: number): Promise<boolean> {
	return new Promise((resolve) => {
		const server = createServer();
		server.once('error', () => resolve(false));
		server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
	});
}

function percentile(values: number[], p: number): number {
	if (values.length === 0) return 0;
	const sorted = [...values].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

interface TaskRecord {
	phase: number;
	workflow: string;
	tier: number | 'human';
	latencyMs: number;
	costUsd: number;
	/** The model that answered, as `provider/model`; none for Needs Human. */
	model?: string;
}

/** Reads what each Resilient LLM node put on its outputs in one finished execution. */
function tasksOf(execution: Execution, workflow: string, phase: number): TaskRecord[] {
	const records: TaskRecord[] = [];
	for (const node of LLM_NODES) {
		const run = execution.data?.resultData.runData[node]?.[0];
		for (const output of run?.data?.main ?? []) {
			for (const item of output ?? []) {
				const r = item.json.resilience as
					| {
							outcome: string;
							tier?: number;
							latencyMs: number;
							costUsd: number;
							provider?: string;
							model?: string;
					  }
					| undefined;
				if (!r) continue; // the empty item "Always Output Data" adds
				records.push({
					phase,
					workflow,
					tier: r.outcome === 'answered' ? (r.tier ?? 1) : 'human',
					latencyMs: r.latencyMs,
					costUsd: r.costUsd,
					...(r.outcome === 'answered' && r.model ? { model: `${r.provider}/${r.model}` } : {}),
				});
			}
		}
	}
	return records;
}

function pad(value: string | number, width: number, left = false): string {
	const text = String(value);
	return left ? text.padEnd(width) : text.padStart(width);
}

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			once: { type: 'boolean', default: false },
			port: { type: 'string', default: '5678' },
		},
	});
	const port = Number(values.port);
	if (!Number.isInteger(port) || port < 1 || port > 65535)
		throw new Error(`--port must be 1..65535, got ${values.port}`);
	if (!(await portIsFree(port))) {
		process.stderr.write(
			`demo: port ${port} is busy (another n8n?). Stop what uses it, or run: npm run demo -- --port <free port>\n`,
		);
		process.exit(2);
	}

	say(
		'Resilient LLM demo: building the package and starting n8n (the first run installs n8n, 5-8 minutes)',
	);
	rmSync(USER_FOLDER, { recursive: true, force: true });
	const stack = await Stack.start({
		userFolder: USER_FOLDER,
		port,
		realProviders: true,
		log: (line) => say(`  ${line}`),
	});
	let stopping = false;
	const stop = async (code: number) => {
		if (stopping) return;
		stopping = true;
		say('stopping n8n, the emulator and the fakes');
		await stack.stop();
		process.exit(code);
	};
	process.on('SIGINT', () => void stop(0));
	process.on('SIGTERM', () => void stop(0));

	try {
		for (const provider of stack.realProviders)
			say(
				`  ${provider}: real API (key from the environment); the drill only takes emulated providers down`,
			);
		const ids: Record<string, string> = {};
		for (const file of workflowFiles()) {
			ids[file.file] = await stack.importWorkflow(file);
			say(`  imported ${file.file}`);
		}

		const started = new Map<string, number>(); // execution id -> phase
		let ticket = 0;
		let cooledDown: string[] = [];
		for (const [index, phase] of PHASES.entries()) {
			stack.setScenario(phase.scenario);
			say(`\nphase ${index + 1}/${PHASES.length}: ${phase.name}`);
			if (phase.afterCoolDown) cooledDown = await waitForCoolDown();
			await supportConversation(stack, ids['support-agent.json']);
			for (let i = 0; i < 3; i++) {
				const id = `T-${++ticket}`;
				const response = await stack.n8n.webhook('support-ticket', {
					id,
					subject: 'Parcel arrived damaged',
					text: `Ticket ${id}: the blender arrived cracked; the customer wants a replacement.`,
				});
				const body = response.body as { tier?: number; answeredBy?: string; status?: string };
				say(
					`  support ticket ${id}: ${body.tier ? `answered by tier ${body.tier} (${body.answeredBy})` : `${body.status ?? response.status} -> Slack + review`}`,
				);
			}
			for (let i = 0; i < 2; i++) {
				const refundId = `R-${++ticket}`;
				const response = await stack.n8n.webhook('refund-request', {
					refundId,
					amount: 89,
					currency: 'EUR',
					deliveredDaysAgo: 4,
					message: 'The blender arrived cracked.',
				});
				const body = response.body as { decision?: string; decidedBy?: string; status?: string };
				say(
					`  refund ${refundId}: ${body.decision ? `${body.decision} (${body.decidedBy})` : `${body.status ?? response.status} -> reviewer emailed (high stakes: no weaker model)`}`,
				);
			}
			const documents = [1, 2, 3].map((n) => ({
				name: `phase${index + 1}-doc${n}.txt`,
				text: `Quarterly report, part ${n}.`,
			}));
			const batches = (await stack.n8n.executions(ids['document-pipeline.json'])).length;
			await stack.n8n.webhook('document-batch', { documents });
			// This webhook answers before its execution exists: wait for it, so settle() sees it.
			for (
				let tries = 0;
				tries < 100 &&
				(await stack.n8n.executions(ids['document-pipeline.json'])).length === batches;
				tries++
			) {
				await new Promise((r) => setTimeout(r, 100));
			}
			say(`  document batch of ${documents.length} sent`);
			// Let this phase's executions settle before the emulator changes.
			await settle(stack, ids, started, index);
			if (phase.afterCoolDown) await showProbes(cooledDown);
		}
		await anyModelAgent(stack, ids[ANY_MODEL_FILE], PACE, say);

		const records: TaskRecord[] = [];
		for (const [file, workflowId] of Object.entries(ids)) {
			for (const summary of await stack.n8n.executions(workflowId)) {
				const phase = started.get(summary.id);
				if (phase === undefined) continue;
				records.push(
					...tasksOf(await stack.n8n.execution(summary.id), file.replace('.json', ''), phase),
				);
			}
		}
		printTable(records, stack);
	} catch (error) {
		process.stderr.write(
			`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
		);
		await stop(1);
		return;
	}

	if (values.once) {
		await stop(0);
		return;
	}
	say(`\nn8n is running at ${stack.n8n.baseUrl} (sign in as ${OWNER.email} / ${OWNER.password}).`);
	say(
		'Open the editor to see the workflows and their executions; the emulator keeps answering. Ctrl-C stops everything.',
	);
}

/** A circuit as people read it: its provider and model, without the endpoint hash. */
const modelOf = (circuit: string) => circuit.split('#')[0];

/**
 * The circuit breaker (on by default) opened a circuit for each model the outage took down:
 * each skips its model for the cool-down, then lets one probe call through. Waits for the
 * last cool-down to end, saying so; returns the circuits that were open.
 */
async function waitForCoolDown(): Promise<string[]> {
	const store = new SqliteStateStore(STATE_STORE);
	try {
		const open = await store.openCircuits();
		if (open.length === 0) return [];
		const until = Math.max(
			...(await Promise.all(open.map((c) => store.snapshot(c)))).map((s) => s.openUntil),
		);
		say(
			`  circuit breaker: the outage opened ${open.length} circuits (${open.map(modelOf).join(', ')})`,
		);
		say(
			`  each skips its model until its cool-down ends, then one probe call tests it while other calls wait for the answer: waiting ${Math.ceil((until - Date.now()) / 1000)} s for the cool-down`,
		);
		await new Promise((r) => setTimeout(r, Math.max(0, until - Date.now()) + 100));
		return open;
	} finally {
		await store.close();
	}
}

/** After the recovered phase: what the probes found, circuit by circuit. */
async function showProbes(circuits: string[]): Promise<void> {
	if (circuits.length === 0) return;
	const store = new SqliteStateStore(STATE_STORE);
	try {
		const states = await Promise.all(
			circuits.map(async (c) => [c, (await store.snapshot(c)).state] as const),
		);
		const closed = states.filter(([, state]) => state === 'closed').map(([c]) => modelOf(c));
		const other = states.filter(([, state]) => state !== 'closed');
		say(`  probes answered, circuits closed again: ${closed.length ? closed.join(', ') : 'none'}`);
		for (const [circuit] of other)
			say(`  ${modelOf(circuit)}: cool-down over; the next task that needs it sends its probe`);
	} finally {
		await store.close();
	}
}

/**
 * One customer message through the support agent: which tier answered each of its model
 * calls (from Resilient Chat Model's output panel data), which tools ran, and the outcome.
 */
async function supportConversation(stack: Stack, workflowId: string): Promise<void> {
	const response = await stack.n8n.webhook('support-agent', {
		message: 'My blender (order 1001) arrived cracked. Can I get my money back?',
	});
	const execution = await stack.n8n.latestExecution(workflowId);
	const runData = execution.data?.resultData.runData ?? {};
	const calls = chatModelCalls(execution).map((call) =>
		call.failed ? 'failed' : `tier ${call.summary?.tier ?? '?'}`,
	);
	const tools = ['Order Lookup', 'Refund Request']
		.map((name) => `${name} ${runData[name]?.length ?? 0}`)
		.join(', ');
	const body = response.body as { answer?: string; status?: string; reason?: string };
	say(`  support agent: model calls ${calls.join(', ')}; tools ran: ${tools}`);
	say(
		`    ${body.answer ? `answer: ${body.answer}` : `${body.status ?? response.status} -> Slack: ${body.reason ?? ''}`}`,
	);
}

/** Waits until every execution started so far has finished or is waiting for a person. */
async function settle(
	stack: Stack,
	ids: Record<string, string>,
	started: Map<string, number>,
	phase: number,
): Promise<void> {
	const deadline = Date.now() + 120_000;
	while (Date.now() < deadline) {
		let busy = false;
		for (const workflowId of Object.values(ids)) {
			for (const execution of await stack.n8n.executions(workflowId)) {
				if (!started.has(execution.id)) started.set(execution.id, phase);
				if (execution.status === 'running' || execution.status === 'new') busy = true;
			}
		}
		if (!busy) return;
		await new Promise((r) => setTimeout(r, 300));
	}
	throw new Error('executions did not settle within 2 minutes');
}

function printTable(records: TaskRecord[], stack: Stack): void {
	const tiers = [...new Set(records.map((r) => r.tier))].sort((a, b) =>
		a === 'human' ? 1 : b === 'human' ? -1 : a - b,
	);
	say(`\nOutage drill: ${records.length} tasks in ${PHASES.length} phases`);
	say(
		`${pad('answered by', 22, true)}${pad('tasks', 7)}${pad('p50 ms', 9)}${pad('p95 ms', 9)}${pad('cost USD', 12)}`,
	);
	for (const tier of tiers) {
		const rows = records.filter((r) => r.tier === tier);
		const latencies = rows.map((r) => r.latencyMs);
		const cost = rows.reduce((s, r) => s + r.costUsd, 0);
		const label = tier === 'human' ? 'needs human' : `tier ${tier}`;
		say(
			`${pad(label, 22, true)}${pad(rows.length, 7)}${pad(percentile(latencies, 50), 9)}${pad(percentile(latencies, 95), 9)}${pad(cost.toFixed(6), 12)}`,
		);
	}
	say('\nper phase (tier 1 / tier 2 / tier 3 / needs human):');
	for (const [index, phase] of PHASES.entries()) {
		const rows = records.filter((r) => r.phase === index);
		const count = (tier: number | 'human') => rows.filter((r) => r.tier === tier).length;
		say(
			`  ${pad(phase.name, 30, true)} ${count(1)} / ${count(2)} / ${count(3)} / ${count('human')}`,
		);
	}
	printSpend(records);
	const escalations = records.filter((r) => r.tier === 'human').length;
	say(
		`\nescalations: ${escalations} (Slack messages ${stack.slack.messages.length}, reviewer emails ${stack.smtp.mails.length}, Jira issues ${stack.jira.issues.length})`,
	);
	const links = [...stack.slack.messages.map((m) => m.text), ...stack.smtp.mails.map((m) => m.text)]
		.map((text) => text.match(LINK)?.[0])
		.filter((link): link is string => Boolean(link));
	say(`reviews pending: ${links.length}`);
	for (const link of links) say(`  ${link}`);
}

/** Today's spend per model: what the answers of this run cost, as the items carry it. */
function printSpend(records: TaskRecord[]): void {
	const byModel = new Map<string, { answers: number; costUsd: number }>();
	for (const record of records) {
		if (!record.model) continue;
		const entry = byModel.get(record.model) ?? { answers: 0, costUsd: 0 };
		entry.answers++;
		entry.costUsd += record.costUsd;
		byModel.set(record.model, entry);
	}
	const today = new Date().toISOString().slice(0, 10);
	say(`\nspend today (${today}) per model:`);
	const sorted = [...byModel.entries()].sort((a, b) => b[1].costUsd - a[1].costUsd);
	for (const [model, entry] of sorted)
		say(
			`  ${pad(model, 36, true)}${pad(entry.answers, 6)} answers ${pad(`$${entry.costUsd.toFixed(6)}`, 12)}`,
		);
	const total = sorted.reduce((sum, [, entry]) => sum + entry.costUsd, 0);
	say(`  ${pad('total', 36, true)}${pad('', 14)} ${pad(`$${total.toFixed(6)}`, 12)}`);
}

main().catch((error: unknown) => {
	process.stderr.write(`demo failed: ${error instanceof Error ? error.message : String(error)}\n`);
	process.exit(1);
});
