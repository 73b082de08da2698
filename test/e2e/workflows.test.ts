/**
 * The example workflows in workflows/, imported into a real n8n as they are and run end to
 * end against the emulator and the Slack, Jira and SMTP fakes, with the stock nodes unmodified.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';

import type { Rule, Turn } from '../../lib/emulator/scenario';
import { OWNER } from '../harness/n8n';
import type { ExecutionItem } from '../harness/n8n';
import { n8nEntry, nodeBinary } from '../harness/runtime';
import { Stack, WORKFLOW_DIR, workflowFiles } from '../harness/stack';
import type { WorkflowFile } from '../harness/stack';
import { launchChromium } from '../support/browser';
import { Editor, saveScreenshot } from '../support/editor';
import { proposedCredentialName } from '../support/credentialNames';
import { postForm } from '../support/http';
import { isProviderName, providerOf } from '../../lib/providers/registry';

let stack: Stack;
const ids: Record<string, string> = {};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
	// Without credentials: the first tests make only those each example needs.
	stack = await Stack.start({ credentials: false });
});

/** Every credential, then every example imported and active: what the tests below run on. */
let imported: Promise<void> | undefined;
function importExamples(): Promise<void> {
	imported ??= (async () => {
		await stack.createCredentials();
		for (const file of workflowFiles()) ids[file.file] = await stack.importWorkflow(file);
	})();
	return imported;
}
after(async () => {
	await stack?.stop();
});

const LINK =
	/http:\/\/127\.0\.0\.1:\d+\/webhook-waiting\/\d+\?signature=[0-9a-f]+&review=[\w-]{32}/;

/** Waits (bounded) until `check` returns something. */
async function eventually<T>(
	check: () => T | undefined | Promise<T | undefined>,
	what: string,
	timeoutMs = 60_000,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		const value = await check();
		if (value !== undefined) return value;
		await sleep(200);
	}
	throw new Error(`timed out waiting for ${what}`);
}

/**
 * The message with the link goes out before Human Review parks the execution; until it is
 * parked, n8n answers the link with 409 "running already". A reviewer is never that quick.
 */
async function waiting(link: string): Promise<void> {
	const id = /\/webhook-waiting\/(\d+)/.exec(link)?.[1] ?? '';
	await eventually(
		async () => ((await stack.n8n.execution(id)).status === 'waiting' ? true : undefined),
		`execution ${id} to wait for its review`,
	);
}

describe('workflow files', () => {
	it('hold no secret and no absolute path, and reference credentials by name only', () => {
		for (const file of readdirSync(WORKFLOW_DIR).filter((f) => f.endsWith('.json'))) {
			const text = readFileSync(join(WORKFLOW_DIR, file), 'utf8');
			assert.doesNotMatch(
				text,
				/sk-[A-Za-z0-9_-]{16,}|sk-ant-|AIza[0-9A-Za-z_-]{20,}|xox[abp]-[0-9A-Za-z-]{10,}/,
				`${file}: looks like a secret`,
			);
			assert.doesNotMatch(
				text,
				/"\/(home|root|tmp|work|Users|var)\/|[A-Z]:\\\\/,
				`${file}: absolute path`,
			);
			const workflow = JSON.parse(text) as {
				nodes: Array<{ credentials?: Record<string, { id: unknown; name: string }> }>;
			};
			for (const node of workflow.nodes) {
				for (const ref of Object.values(node.credentials ?? {})) {
					assert.equal(ref.id, null, `${file}: credentials are placeholders resolved by name`);
					assert.ok(ref.name.length > 0);
				}
			}
		}
	});

	it('import with the n8n CLI (n8n import:workflow)', async () => {
		// Asynchronously: a blocked event loop would leave dead keep-alive sockets to n8n behind.
		const run = promisify(execFile);
		const folder = mkdtempSync(join(tmpdir(), 'resilient-llm-import-'));
		const env = { ...process.env, N8N_USER_FOLDER: folder, N8N_DIAGNOSTICS_ENABLED: 'false' };
		for (const file of workflowFiles()) {
			const { stdout } = await run(
				nodeBinary(),
				[n8nEntry(), 'import:workflow', `--input=${join(WORKFLOW_DIR, file.file)}`],
				{ env, timeout: 120_000 },
			);
			assert.match(stdout, /Successfully imported 1 workflow/);
		}
		const { stdout: list } = await run(nodeBinary(), [n8nEntry(), 'list:workflow'], {
			env,
			timeout: 120_000,
		});
		for (const file of workflowFiles())
			assert.match(list, new RegExp(`${file.json.id}\\|${file.name.replace(/[()]/g, '\\$&')}`));
	});

	it("without credentials, show n8n's credentials-missing state instead of failing", async () => {
		// A second import under a new name after the credentials are renamed away is the same as a
		// fresh n8n without them: the references stay unresolved (id null) and n8n lists the issue.
		const file = workflowFiles().find((f) => f.file === 'support-ticket-summary.json');
		assert.ok(file);
		const nodes = (file.json.nodes as Array<Record<string, unknown>>).map((node) => ({
			...node,
			credentials: node.credentials
				? Object.fromEntries(
						Object.entries(node.credentials as Record<string, { name: string }>).map(
							([type, ref]) => [type, { id: null, name: `${ref.name} (not created)` }],
						),
					)
				: undefined,
		}));
		const id = await stack.n8n.createWorkflow(
			{
				name: 'support without credentials',
				nodes,
				connections: file.json.connections,
				settings: file.json.settings,
			},
			false,
		);
		const stored = await stack.n8n.api<{
			nodes: Array<{ name: string; credentials?: Record<string, { id: string | null }> }>;
		}>('GET', `/workflows/${id}`);
		const llm = stored.nodes.find((n) => n.name === 'Summarise Ticket');
		assert.equal(
			llm?.credentials?.resilientLlmAnthropicApi.id,
			null,
			'left unresolved for the user to pick',
		);
	});
});

describe("imported by a user who made only the example's credentials, under the names the dialog proposed", () => {
	interface SavedNode {
		type: string;
		parameters: { chain?: { tiers?: Array<{ provider?: string }> } };
		credentials?: Record<string, { id: string | null; name: string }>;
	}
	const MODEL_NODES = [
		'n8n-nodes-resilient-llm.resilientLlm',
		'n8n-nodes-resilient-llm.resilientChatModel',
	];

	/**
	 * The credential types a user makes for an example: those of the providers its tiers use,
	 * and those of the services its other nodes post to (n8n publishes no workflow whose node
	 * lacks a required credential).
	 */
	function neededTypes(file: WorkflowFile): string[] {
		const types = new Set<string>();
		for (const node of file.json.nodes as SavedNode[]) {
			if (MODEL_NODES.includes(node.type)) {
				for (const tier of node.parameters.chain?.tiers ?? []) {
					assert.ok(isProviderName(tier.provider), `${file.file}: ${tier.provider}`);
					// A connected tier's credential is its chat model node's, counted with that node.
					const type = providerOf(tier.provider).credential.type;
					if (type) types.add(type);
				}
			} else for (const type of Object.keys(node.credentials ?? {})) types.add(type);
		}
		return [...types].sort();
	}

	/** What the credential dialog shows as the new credential's name, as n8n computes it. */
	async function dialogName(type: string): Promise<string> {
		const types = await stack.n8n.rest<Array<{ name: string; displayName: string }>>(
			'GET',
			'/types/credentials.json',
		);
		const displayName = types.find((t) => t.name === type)?.displayName;
		assert.ok(displayName, `n8n knows no credential type ${type}`);
		const proposed = proposedCredentialName(displayName);
		const { name } = await stack.n8n.rest<{ name: string }>(
			'GET',
			`/rest/credentials/new?name=${encodeURIComponent(proposed)}`,
		);
		return name;
	}

	/** One run of each example on its happy path; what it answered. */
	const RUNS: Record<string, () => Promise<unknown>> = {
		'support-ticket-summary.json': async () => {
			stack.setScenario({});
			const response = await stack.n8n.webhook('support-ticket', {
				id: 'T-1',
				subject: 'Parcel arrived damaged',
				text: 'The blender arrived cracked.',
			});
			assert.equal(response.status, 200, JSON.stringify(response.body));
			return (response.body as { answeredBy: string }).answeredBy;
		},
		'refund-approval.json': async () => {
			stack.setScenario({
				rules: [{ provider: 'anthropic', reply: '{"decision": "approve", "reason": "Damaged."}' }],
			});
			const response = await stack.n8n.webhook('refund-request', {
				refundId: 'R-1',
				amount: 89,
				currency: 'EUR',
				deliveredDaysAgo: 4,
				message: 'The blender arrived cracked.',
			});
			assert.equal(response.status, 200, JSON.stringify(response.body));
			return (response.body as { decidedBy: string }).decidedBy;
		},
		'support-agent.json': async () => {
			stack.setScenario({});
			const response = await stack.n8n.webhook('support-agent', {
				message: 'Where is my order 1001?',
			});
			assert.equal(response.status, 200, JSON.stringify(response.body));
			return (response.body as { answer: string }).answer;
		},
		'any-model-agent.json': async () => {
			stack.setScenario({});
			const response = await stack.n8n.webhook('any-model-agent', {
				message: 'Where is my order 1001?',
			});
			assert.equal(response.status, 200, JSON.stringify(response.body));
			return (response.body as { answer: string }).answer;
		},
		'document-pipeline.json': async () => {
			stack.setScenario({});
			const before = stack.slack.messages.length;
			const response = await stack.n8n.webhook('document-batch', {
				documents: [{ name: 'a.txt', text: 'Quarterly report.' }],
			});
			assert.equal(response.status, 200, JSON.stringify(response.body));
			const report = await eventually(
				() =>
					stack.slack.messages.slice(before).find((m) => m.text.startsWith('Document pipeline')),
				'the tier report',
			);
			return report.text;
		},
	};
	const ANSWERS: Record<string, RegExp> = {
		'support-ticket-summary.json': /^anthropic\/claude-haiku-4-5$/,
		'refund-approval.json': /^anthropic\/claude-sonnet-4-5$/,
		'support-agent.json': /Emulated answer from anthropic\/claude-haiku-4-5/,
		'any-model-agent.json': /Emulated answer from openai\/gpt-4o-mini/,
		'document-pipeline.json': /tier 1 \(openai\/gpt-4o-mini\): 1 documents?,/,
	};

	it('every example has a run here', () => {
		assert.deepEqual(
			Object.keys(RUNS).sort(),
			workflowFiles()
				.map((f) => f.file)
				.sort(),
		);
	});

	for (const file of workflowFiles()) {
		it(`${file.file} connects every credential on import and runs`, async () => {
			const made: string[] = [];
			let workflowId: string | undefined;
			try {
				for (const type of neededTypes(file))
					made.push(
						await stack.n8n.createCredential(
							await dialogName(type),
							type,
							stack.credentialData(type),
						),
					);
				workflowId = await stack.importWorkflow(file);
				const stored = await stack.n8n.api<{ nodes: Array<SavedNode & { name: string }> }>(
					'GET',
					`/workflows/${workflowId}`,
				);
				const unconnected = stored.nodes.flatMap((node) =>
					Object.entries(node.credentials ?? {})
						.filter(([, ref]) => !ref.id)
						.map(([type, ref]) => `${node.name}: "${ref.name}" (${type})`),
				);
				assert.deepEqual(unconnected, [], 'credential slots left unconnected');
				assert.match(String(await RUNS[file.file]()), ANSWERS[file.file]);
			} finally {
				// The next example starts with none of these credentials, and its webhook path free.
				if (workflowId) await stack.n8n.api('POST', `/workflows/${workflowId}/deactivate`);
				for (const id of made) await stack.n8n.api('DELETE', `/credentials/${id}`);
			}
		});
	}
});

describe('on the canvas', () => {
	before(importExamples);

	it('the refund workflow opens in the n8n editor with every node, and is saved as a screenshot', async () => {
		const browser = await launchChromium();
		try {
			const page = await browser.newPage({
				viewport: { width: 1500, height: 860 },
				deviceScaleFactor: 1,
			});
			const editor = new Editor(page, stack.n8n.baseUrl);
			await editor.signIn(OWNER.email, OWNER.password);
			const file = workflowFiles().find((f) => f.file === 'refund-approval.json');
			const nodes = (file?.json.nodes as Array<{ type: string }>).filter(
				(n) => n.type !== 'n8n-nodes-base.stickyNote',
			);
			await editor.openWorkflow(ids['refund-approval.json'], nodes.length);
			assert.equal(await editor.canvasNodes().count(), nodes.length);
			assert.equal(
				await page.getByText('Approved', { exact: true }).count(),
				1,
				"Human Review's outputs are labelled",
			);
			// The editor's first-run checklist is a popover: a click on empty canvas closes it.
			await page.mouse.click(1250, 160);
			await editor.zoomToFit();
			await saveScreenshot(page, 'workflow-refund-approval.png');
		} finally {
			await browser.close();
		}
	});
});

describe('support-ticket-summary', () => {
	before(importExamples);

	const ticket = (id: string) => ({
		id,
		subject: 'Parcel arrived damaged',
		text: 'The blender I ordered arrived cracked. I want a replacement.',
	});

	it('answers from tier 1 and replies with the summary', async () => {
		stack.setScenario({});
		const slackBefore = stack.slack.messages.length;
		const response = await stack.n8n.webhook('support-ticket', ticket('T-100'));
		assert.equal(response.status, 200);
		assert.deepEqual(
			{ ...(response.body as object), costUsd: undefined },
			{
				ticket: 'T-100',
				summary: 'Emulated answer from anthropic/claude-haiku-4-5.',
				answeredBy: 'anthropic/claude-haiku-4-5',
				tier: 1,
				costUsd: undefined,
			},
		);
		assert.equal(stack.slack.messages.length, slackBefore, 'no escalation');
	});

	it('answers from tier 2 while Anthropic is down', async () => {
		stack.setScenario({ rules: [{ provider: 'anthropic', fault: 'overloaded' }] });
		const response = await stack.n8n.webhook('support-ticket', ticket('T-101'));
		assert.equal((response.body as { tier: number }).tier, 2);
		assert.equal((response.body as { answeredBy: string }).answeredBy, 'openai/gpt-4o-mini');
	});

	it('with every provider down, escalates to Slack with the reason, the attempts and a review link that works', async () => {
		stack.setScenario({ rules: [{ fault: 'server_error' }] });
		const slackBefore = stack.slack.messages.length;
		const response = await stack.n8n.webhook('support-ticket', ticket('T-102'));
		assert.equal(response.status, 202);
		assert.equal((response.body as { status: string }).status, 'escalated');
		const message = await eventually(() => stack.slack.messages[slackBefore], 'the Slack message');
		assert.equal(message.channel, '#support-escalations');
		assert.equal(message.token, 'xoxb-fake-slack-token');
		assert.match(message.text, /Ticket T-102 needs a human/);
		assert.match(message.text, /Reason: Every model in the chain failed/);
		assert.match(
			message.text,
			/tier 1 anthropic\/claude-haiku-4-5: server_error \(500\); .*tier 3 gemini\/gemini-2\.5-flash: server_error \(500\)/,
		);
		const link = message.text.match(LINK)?.[0];
		assert.ok(link, 'the message carries the review link');
		await waiting(link);
		const page = await fetch(link);
		assert.equal(page.status, 200);
		assert.match(await page.text(), /Summarise ticket T-102/);
		assert.equal(
			(
				await postForm(link, {
					decision_0: 'approve',
					answer_0: 'Customer got a cracked blender and wants a replacement.',
					name: 'Sam',
				})
			).status,
			200,
		);
		const summary = await eventually(
			() => stack.slack.messages.find((m) => m.text.startsWith('Summary of ticket T-102')),
			'the human summary in Slack',
		);
		assert.match(summary.text, /by Sam: Customer got a cracked blender/);
		// n8n's own calls home (templates, MCP registry) hit the proxy too and are refused.
		assert.deepEqual(
			stack.slack.refused.filter((url) => url.includes('slack.com')),
			[],
			'the Slack node asked for nothing unfaked',
		);
	});
});

describe('refund-approval', () => {
	before(importExamples);

	const request = (refundId: string) => ({
		refundId,
		amount: 89,
		currency: 'EUR',
		deliveredDaysAgo: 4,
		message: 'The blender arrived cracked.',
	});

	it("answers with the model's JSON decision", async () => {
		stack.setScenario({
			rules: [
				{
					provider: 'anthropic',
					reply: '{"decision": "approve", "reason": "Damaged on delivery, within 30 days."}',
				},
			],
		});
		const response = await stack.n8n.webhook('refund-request', request('R-1'));
		assert.equal(response.status, 200);
		assert.deepEqual(response.body, {
			refundId: 'R-1',
			decision: 'approve',
			reason: 'Damaged on delivery, within 30 days.',
			decidedBy: 'anthropic/claude-sonnet-4-5',
		});
	});

	it('with the primary down, never lets the weaker model decide: emails a reviewer, and a rejection opens a Jira issue', async () => {
		stack.setScenario({ rules: [{ provider: 'anthropic', fault: 'overloaded' }] });
		stack.emulator.resetCounts();
		const mailsBefore = stack.smtp.mails.length;
		const issuesBefore = stack.jira.issues.length;
		const response = await stack.n8n.webhook('refund-request', request('R-2'));
		assert.equal(response.status, 202);
		assert.equal((response.body as { status: string }).status, 'pending_review');
		assert.equal(
			stack.emulator.count('openai'),
			0,
			'high-stakes: the fallback model was not asked',
		);
		const mail = await eventually(() => stack.smtp.mails[mailsBefore], 'the reviewer email');
		assert.deepEqual(mail.to, ['refunds-review@example.com']);
		assert.equal(mail.subject, 'Refund R-2 needs your decision');
		const link = mail.text.match(LINK)?.[0];
		assert.ok(link, 'the email carries the review link');
		await waiting(link);
		const page = await fetch(link);
		assert.equal(page.status, 200);
		assert.match(await page.text(), /Refund R-2: 89 EUR/);
		assert.equal(
			(
				await postForm(link, {
					decision_0: 'reject',
					name: 'Ana',
					comment: 'Photo shows no damage.',
				})
			).status,
			200,
		);
		const issue = await eventually(() => stack.jira.issues[issuesBefore], 'the Jira issue');
		assert.equal(issue.fields.summary, 'Refund R-2 rejected by Ana');
		assert.match(String(issue.fields.description), /Reviewer comment: Photo shows no damage\./);
		assert.match(String(issue.fields.description), /Prompt:\nDecide this refund request/);
		assert.match(
			String(issue.fields.description),
			/Attempts: tier 1 anthropic\/claude-sonnet-4-5: overloaded \(529\); tier 1 .*overloaded \(529\); tier 1 .*overloaded \(529\)/,
		);
		assert.match(
			issue.authorization,
			/^Basic /,
			'the stock Jira node authenticated with the credential',
		);
	});
});

describe('document-pipeline', () => {
	before(importExamples);

	const documents = (prefix: string) => ({
		documents: [1, 2, 3, 4].map((n) => ({
			name: `${prefix}-${n}.txt`,
			text: `Quarterly report part ${n}.`,
		})),
	});

	async function runBatch(prefix: string): Promise<{ report?: string }> {
		const slackBefore = stack.slack.messages.length;
		const response = await stack.n8n.webhook('document-batch', documents(prefix));
		assert.equal(response.status, 200);
		const report = await eventually(
			() =>
				stack.slack.messages.slice(slackBefore).find((m) => m.text.startsWith('Document pipeline')),
			'the tier report',
		);
		return { report: report.text };
	}

	it('reports how many documents each tier answered and what they cost', async () => {
		stack.setScenario({});
		const { report } = await runBatch('ok');
		assert.match(
			String(report),
			/^Document pipeline: 4 documents\. tier 1 \(openai\/gpt-4o-mini\): 4 documents, \$0\.0000\d+\. Escalated to Jira: 0\. Total cost \$0\.0000\d+\.$/,
		);
	});

	it('falls back to the local Ollama tier when both cloud providers are down', async () => {
		stack.setScenario({
			rules: [
				{ provider: 'openai', fault: 'overloaded' },
				{ provider: 'gemini', fault: 'overloaded' },
			],
		});
		const { report } = await runBatch('local');
		assert.match(String(report), /tier 3 \(ollama\/llama3\.2\): 4 documents, \$0\.000000/);
	});

	it('opens a Jira issue with the prompt and the attempts for each document no model could summarise', async () => {
		stack.setScenario({ rules: [{ fault: 'server_error' }] });
		const issuesBefore = stack.jira.issues.length;
		const { report } = await runBatch('down');
		assert.match(String(report), /4 documents\. none answered\. Escalated to Jira: 4\./);
		const issues = await eventually(
			() =>
				stack.jira.issues.length - issuesBefore === 4
					? stack.jira.issues.slice(issuesBefore)
					: undefined,
			'four Jira issues',
		);
		assert.deepEqual(
			issues.map((i) => i.fields.summary).sort(),
			[1, 2, 3, 4].map((n) => `Document "down-${n}.txt" needs a human summary`),
		);
		for (const issue of issues) {
			assert.match(
				String(issue.fields.description),
				/Prompt:\nSummarise this document in three bullet points\./,
			);
			assert.match(
				String(issue.fields.description),
				/tier 3 ollama\/llama3\.2: server_error \(500\)/,
			);
		}
	});
});

describe('any-model-agent', () => {
	before(importExamples);

	const GROQ_MODEL = 'llama-3.3-70b-versatile';
	const REPLY = 'Your blender, order 1001, was delivered four days ago.';
	const TURNS: Turn[] = [
		{ toolCalls: [{ name: 'Order_Lookup', arguments: { orderId: '1001' } }] },
		{ reply: REPLY },
	];

	/**
	 * One customer message: the answer, the tier and node that answered each model call (from
	 * Resilient Chat Model's output panel data), and how often the order was looked up.
	 */
	async function ask(rules: Rule[]) {
		stack.setScenario({ turns: TURNS, rules });
		stack.emulator.resetCounts();
		const response = await stack.n8n.webhook('any-model-agent', {
			message: 'Where is my order 1001?',
		});
		assert.equal(response.status, 200, JSON.stringify(response.body));
		const execution = await stack.n8n.latestExecution(ids['any-model-agent.json']);
		const runData = execution.data?.resultData.runData ?? {};
		const calls = (runData['Resilient Chat Model'] ?? []).map((run) => {
			const output = (run.data as unknown as Record<string, ExecutionItem[][]> | undefined)
				?.ai_languageModel;
			const summary = output?.[0]?.[0]?.json.resilience as
				| { tier?: number; attempts: Array<{ model: string; status: string }> }
				| undefined;
			const answered = summary?.attempts.find((a) => a.status === 'ok')?.model;
			return `tier ${summary?.tier}: ${answered}`;
		});
		const answer = (response.body as { answer?: string }).answer;
		return { answer, calls, lookups: runData['Order Lookup']?.length ?? 0 };
	}

	it("answers with tier 1, n8n's OpenAI Chat Model, while OpenAI is up", async () => {
		const run = await ask([]);
		assert.deepEqual(run, {
			answer: REPLY,
			calls: Array(2).fill('tier 1: OpenAI Chat Model (gpt-4o-mini)'),
			lookups: 1,
		});
		assert.equal(stack.emulator.count('openai', 'gpt-4o-mini'), 2);
		assert.equal(stack.emulator.count('openai', GROQ_MODEL), 0);
	});

	it('with OpenAI down, Groq Chat Model on tier 2 answers, and the order is looked up once', async () => {
		const run = await ask([{ provider: 'openai', model: 'gpt-4o-mini', fault: 'overloaded' }]);
		assert.deepEqual(run, {
			answer: REPLY,
			calls: Array(2).fill(`tier 2: Groq Chat Model (${GROQ_MODEL})`),
			lookups: 1,
		});
		assert.ok(stack.emulator.count('openai', 'gpt-4o-mini') >= 1, 'tier 1 was tried');
		assert.equal(stack.emulator.answers('openai', GROQ_MODEL), 2);
		assert.deepEqual(
			[
				...new Set(
					stack.emulator
						.received('openai')
						.filter((c) => c.model === GROQ_MODEL)
						.map((c) => c.path),
				),
			],
			['/openai/v1/chat/completions'],
			"Groq's SDK called GROQ_BASE_URL, the emulator",
		);
	});

	it('with OpenAI and Groq down, the Ollama Chat Model on tier 3 answers', async () => {
		const run = await ask([{ provider: 'openai', fault: 'overloaded' }]);
		assert.deepEqual(run, {
			answer: REPLY,
			calls: Array(2).fill('tier 3: Ollama Chat Model (llama3.2)'),
			lookups: 1,
		});
		assert.equal(stack.emulator.answers('ollama', 'llama3.2'), 2);
	});
});
