/**
 * The package as a new user meets it: in n8n's editor, in Chromium, from an empty canvas.
 * Nodes are found through the node panel's search, credentials are created in the editor's
 * dialog and tested against the provider emulator, the model chain is built from the Provider
 * dropdowns and the model picker, and runs are read from the output panel. Saves the README's
 * editor screenshots.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { Browser, Locator } from 'playwright-core';

import { ProviderEmulator } from '../../lib/emulator/server';
import type { Rule } from '../../lib/emulator/scenario';
import { N8n, OWNER } from '../harness/n8n';
import { CREDENTIAL_NAMES as STACK_CREDENTIAL_NAMES, workflowFiles } from '../harness/stack';
import { launchChromium } from '../support/browser';
import { EDITOR_VIEWPORT, Editor, saveScreenshot } from '../support/editor';
import { KEYS, MODELS } from '../support/emulator';

const emulator = new ProviderEmulator();
let n8n: N8n;
let browser: Browser;
let editor: Editor;

/** Names the example workflows look their credentials up by: those the dialog proposes. */
const CREDENTIAL_NAMES = {
	anthropic: STACK_CREDENTIAL_NAMES.resilientLlmAnthropicApi,
	openai: STACK_CREDENTIAL_NAMES.resilientLlmOpenAiApi,
};
const LLM = 'Resilient LLM';
const TRIGGER = 'When clicking ‘Execute workflow’';
const PROMPT =
	'Summarise this ticket: the blender arrived cracked and the customer wants a refund.';

/** The emulator checks each key; `rules` script which providers fail. */
function setFaults(rules: Rule[]): void {
	emulator.loadScenario({ apiKeys: KEYS, rules });
}

/** Run figures that differ between runs, in the output panel's table view. */
function varyingOutputFigures(panel: Locator): Locator[] {
	return ['latencyMs', 'waitedMs', 'requestId'].map((key) =>
		panel.locator(`[data-name$="${key}"] + span + span`),
	);
}

before(
	async () => {
		await emulator.start();
		setFaults([]);
		n8n = await N8n.start();
		browser = await launchChromium();
		editor = await Editor.open(browser, n8n.baseUrl);
		await editor.signIn(OWNER.email, OWNER.password);
	},
	{ timeout: 600_000 },
);

after(async () => {
	await browser?.close();
	await n8n?.dispose();
	await emulator.stop();
});

describe('in the n8n editor, from an empty canvas', { timeout: 600_000 }, () => {
	it('the node panel finds the three nodes by name and alias, Resilience Alert among the triggers', async () => {
		await editor.newWorkflow();
		await editor.openTriggerPanel();
		await editor.searchNodePanel('Resilience Alert');
		await editor.nodePanelItem('Resilience Alert').waitFor();
		assert.ok(await editor.isTriggerItem('Resilience Alert'), 'listed with the trigger mark');

		await editor.searchNodePanel('Manual');
		await editor.pickNode('Manual Trigger', TRIGGER);

		await editor.openNextPanel(TRIGGER);
		for (const [query, name] of [
			['Human Review', 'Human Review'],
			['Resilience Alert', 'Resilience Alert'],
			['Failover', LLM],
			['Anthropic', LLM],
		]) {
			await editor.searchNodePanel(query);
			await editor.nodePanelItem(name).waitFor();
		}
		assert.equal(await editor.isTriggerItem(LLM), false);
		await editor.searchNodePanel(LLM);
		await editor.pickNode(LLM);
		await editor.ndv().waitFor();
		assert.equal(await editor.canvasNodes().count(), 2);
	});

	it('creates an Anthropic and an OpenAI credential in the credential dialog, and both tests pass', async () => {
		// One slot per provider, each named for it; no Redis slot while the state store is embedded.
		const labels = ['Anthropic', 'Google Gemini', 'Ollama', 'OpenAI', 'OpenAI-Compatible'];
		assert.equal(await editor.ndv().getByTestId('node-credentials-slot').count(), labels.length);
		for (const label of labels) assert.equal(await editor.credentialSlot(label).count(), 1, label);
		const anthropic = await editor.createCredential(
			'Anthropic',
			{ apiKey: KEYS.anthropic, baseUrl: emulator.urls.anthropic },
			// The name n8n proposes is kept: the example workflows look credentials up by it.
		);
		assert.deepEqual(anthropic.test.status, 'OK', anthropic.test.message);
		assert.match(anthropic.banner, /^Connection tested successfully/);
		const openai = await editor.createCredential('OpenAI', {
			apiKey: KEYS.openai,
			baseUrl: emulator.urls.openai,
		});
		assert.deepEqual(openai.test.status, 'OK', openai.test.message);
		assert.match(openai.banner, /^Connection tested successfully/);
		assert.equal(await editor.selectedCredential('Anthropic'), CREDENTIAL_NAMES.anthropic);
		assert.equal(await editor.selectedCredential('OpenAI'), CREDENTIAL_NAMES.openai);
	});

	it('builds a two-tier chain from the Provider dropdowns and the models the emulator lists', async () => {
		const chain = editor.fixedCollection('chain');
		const providers = await editor.dropdownOptions('provider', 0, chain);
		await editor.page.keyboard.press('Escape');
		for (const label of ['Anthropic', 'Google Gemini', 'Ollama', 'OpenAI', 'OpenAI-Compatible'])
			assert.ok(providers.includes(label), `Provider offers ${label}: ${providers.join(', ')}`);

		await editor.selectOption('provider', 'Anthropic', 0, chain);
		const claude = await editor.pickFromList('model', MODELS.anthropic, 0, chain);
		assert.ok(claude.includes(MODELS.anthropic), `listed: ${claude.join(', ')}`);
		await editor.setText('attempts', '1', 0, chain);

		await editor.addFixedCollectionEntry('Add Tier');
		await editor.selectOption('provider', 'OpenAI', 1, chain);
		const gpt = await editor.pickFromList('model', MODELS.openai, 1, chain);
		assert.ok(gpt.includes(MODELS.openai), `listed: ${gpt.join(', ')}`);
		assert.ok(!gpt.includes(MODELS.anthropic), 'the OpenAI list comes from the OpenAI credential');
		await editor.setText('attempts', '1', 1, chain);

		await editor.setText('prompt', PROMPT);
		await editor.addCollectionOption('Options', 'Backoff Start (Ms)');
		await editor.setText('initialBackoffMs', '10');

		assert.equal(await editor.textOf('prompt'), PROMPT);
		assert.deepEqual(
			[await editor.textOf('attempts', 0, chain), await editor.textOf('attempts', 1, chain)],
			['1', '1'],
		);

		// Opened afresh: a credential select laid out while its credential was being created
		// draws its icon over the name until the node view is opened again.
		await editor.closeNode();
		await editor.openNode(LLM);
		// Tall enough for the whole parameter list, the two tiers included.
		await editor.page.setViewportSize({ width: 1440, height: 1900 });
		await editor.scrollParametersToTop();
		await saveScreenshot(editor.page, 'editor-parameters.png', { target: editor.ndv() });
		await editor.page.setViewportSize(EDITOR_VIEWPORT);
	});

	it('with Anthropic down, the step answers on Answered from tier 2', async () => {
		setFaults([{ provider: 'anthropic', fault: 'overloaded' }]);
		await editor.executeStep();
		assert.deepEqual(await editor.outputBranches(), { Answered: 1, 'Needs Human': 0 });
		await editor.showOutput('Answered');
		assert.equal(await editor.outputValue('resilience.tier'), '2');
		assert.equal(await editor.outputValue('resilience.provider'), 'openai');
		assert.equal(await editor.outputValue('resilience.model'), MODELS.openai);
		assert.equal(await editor.outputValue('text'), `Emulated answer from openai/${MODELS.openai}.`);
		await saveScreenshot(editor.page, 'editor-output.png', {
			target: editor.ndv(),
			mask: varyingOutputFigures(editor.outputPanel()),
		});
	});

	it('with every provider down, the item leaves on Needs Human with its reason', async () => {
		setFaults([{ fault: 'server_error' }]);
		await editor.executeStep();
		assert.deepEqual(await editor.outputBranches(), { Answered: 0, 'Needs Human': 1 });
		await editor.showOutput('Needs Human');
		assert.equal(await editor.outputValue('resilience.outcome'), 'needs_human');
		assert.equal(
			await editor.outputValue('reason'),
			`Every model in the chain failed; tier 1 anthropic/${MODELS.anthropic}: server_error (500) after 1 try; tier 2 openai/${MODELS.openai}: server_error (500) after 1 try.`,
		);
		await editor.closeNode();
	});

	it('a Human Review on Needs Human waits and shows its review link; approving on the page ends on Approved', async () => {
		// The panel lists the node as Human Review Link; on the canvas it is named Review Link,
		// the name the Human Review reads its link from by default.
		await editor.addNodeAfter(LLM, 'Human Review Link', 'Human Review Link', {
			output: 1,
			canvasName: 'Review Link',
		});
		await editor.closeNodeIfOpen();
		await editor.addNodeAfter('Review Link', 'Human Review', 'Human Review');
		await editor.closeNodeIfOpen();

		setFaults([{ fault: 'server_error' }]);
		const executionId = await editor.executeWorkflow('waiting');
		// The waiting node says where its link is; the Review Link node's output shows it, as
		// a Slack or email message would carry it.
		await editor.openNode('Human Review');
		await editor
			.outputPanel()
			.getByText('is the reviewLink field in the Review Link node')
			.waitFor();
		await editor.closeNode();
		await editor.openNode('Review Link');
		const link = await editor.outputValue('reviewLink');
		assert.match(
			link,
			/^http:\/\/127\.0\.0\.1:\d+\/webhook-waiting\/\d+\?signature=[0-9a-f]+&review=[\w-]{32}$/,
		);
		await editor.closeNode();

		const review = await browser.newPage({
			viewport: { width: 430, height: 1100 },
			deviceScaleFactor: 1,
		});
		try {
			const response = await review.goto(link);
			assert.equal(response?.status(), 200);
			assert.match(
				(await review.locator('.reason').textContent()) ?? '',
				/^Every model in the chain failed/,
			);
			await saveScreenshot(review, 'editor-review.png', {
				fullPage: true,
				// The attempts table's Time column.
				mask: [review.locator('table td:nth-child(5)')],
			});
			await review.fill('#name', 'Ana Reviewer');
			await review.click('button.approve');
			await review.getByText('Decision recorded: Approved').waitFor();
		} finally {
			await review.close();
		}

		await editor.waitForExecution(executionId, 'success');
		await editor.openNode('Human Review');
		assert.deepEqual(await editor.outputBranches(), { 'Timed Out': 0, Approved: 1, Rejected: 0 });
		await editor.showOutput('Approved');
		assert.equal(await editor.outputValue('review.decision'), 'approved');
		assert.equal(await editor.outputValue('review.reviewer'), 'Ana Reviewer');
		await editor.closeNode();
	});

	it("from the AI Agent's Chat Model input, the node panel finds Resilient Chat Model; it connects and its tiers fill in", async () => {
		await editor.closeNodeIfOpen();
		await editor.newWorkflow();
		await editor.addFirstNode('Manual', 'Manual Trigger', TRIGGER);
		await editor.addNodeAfter(TRIGGER, 'AI Agent', 'AI Agent');
		await editor.closeNodeIfOpen();

		await editor.openInputPanel('AI Agent', 'ai_languageModel');
		for (const query of ['Resilient Chat Model', 'Failover']) {
			await editor.searchNodePanel(query);
			await editor.nodePanelItem('Resilient Chat Model').waitFor();
		}
		await editor.pickNode('Resilient Chat Model');
		await editor.edge('Resilient Chat Model', 'AI Agent').waitFor();
		await editor.closeNodeIfOpen();
		await editor.openNode('Resilient Chat Model');

		const chain = editor.fixedCollection('chain');
		await editor.selectOption('provider', 'Anthropic', 0, chain);
		await editor.setText('attempts', '2', 0, chain);
		await editor.addFixedCollectionEntry('Add Tier');
		await editor.selectOption('provider', 'OpenAI', 1, chain);
		await editor.pickFromList('model', MODELS.openai, 1, chain);
		await editor.setText('attempts', '1', 1, chain);
		await editor.setText('timeoutSeconds', '20', 1, chain);
		assert.deepEqual(
			[
				await editor.textOf('attempts', 0, chain),
				await editor.textOf('attempts', 1, chain),
				await editor.textOf('timeoutSeconds', 1, chain),
			],
			['2', '1', '20'],
		);
		// Resilient LLM's options, less those about items.
		await editor.addCollectionOption('Options', 'Circuit Breaker');
		await editor.setSwitch('circuitBreaker', true);
		await editor.closeNode();
		assert.equal(await editor.edge('Resilient Chat Model', 'AI Agent').count(), 1);
		// Both tiers have a model from the list: the node shows no issue.
		assert.deepEqual(await editor.nodesWithIssues(), []);
		// The canvas as the README shows it: the agent with Resilient Chat Model as its model.
		await editor.zoomToFit();
		await saveScreenshot(editor.page, 'editor-chat-model.png');
	});

	it('every example workflow opens with no node showing an issue', async () => {
		// The editor made the Anthropic and OpenAI credentials; the others the examples use come
		// through the API, under the names the workflow files look them up by.
		const others: Array<[string, string, Record<string, unknown>]> = [
			[
				STACK_CREDENTIAL_NAMES.resilientLlmGeminiApi,
				'resilientLlmGeminiApi',
				{ apiKey: KEYS.gemini, baseUrl: emulator.urls.gemini },
			],
			[
				STACK_CREDENTIAL_NAMES.resilientLlmOllamaApi,
				'resilientLlmOllamaApi',
				{ apiKey: '', baseUrl: emulator.urls.ollama },
			],
			[STACK_CREDENTIAL_NAMES.slackApi, 'slackApi', { accessToken: 'xoxb-fake-slack-token' }],
			[
				STACK_CREDENTIAL_NAMES.smtp,
				'smtp',
				{ user: 'n8n', password: 'unused', host: '127.0.0.1', port: 2525, secure: false },
			],
			[
				STACK_CREDENTIAL_NAMES.jiraSoftwareServerApi,
				'jiraSoftwareServerApi',
				{ email: 'n8n-bot', password: 'unused', domain: 'http://127.0.0.1:9' },
			],
		];
		for (const [name, type, data] of others) await n8n.createCredential(name, type, data);

		// A node with an issue first, so that "no issue" below is known to be detectable.
		const control = await n8n.createWorkflow(
			{
				name: 'issue control',
				nodes: [
					{
						id: 'c1',
						name: LLM,
						type: 'n8n-nodes-resilient-llm.resilientLlm',
						typeVersion: 1,
						position: [0, 0],
						parameters: { prompt: '' },
					},
				],
				connections: {},
			},
			false,
		);
		await editor.openWorkflow(control, 1);
		await editor.canvasNode(LLM).getByTestId('node-issues').waitFor();
		assert.deepEqual(await editor.nodesWithIssues(), [LLM]);
		assert.match(await editor.issueText(LLM), /Prompt/);

		for (const file of workflowFiles()) {
			const { name, nodes, connections, settings } = file.json;
			const id = await n8n.createWorkflow({ name, nodes, connections, settings }, false);
			const shown = (nodes as Array<{ type: string }>).filter(
				(n) => n.type !== 'n8n-nodes-base.stickyNote',
			);
			await editor.openWorkflow(id, shown.length);
			const issues: string[] = [];
			for (const node of await editor.nodesWithIssues())
				issues.push(`${node}: ${await editor.issueText(node)}`);
			assert.deepEqual(issues, [], `${file.file}: nodes with issues`);
		}
	});

	it('Options › Budget (USD) set in the panel: an item that does not fit leaves on Needs Human as over budget', async () => {
		setFaults([]);
		const id = await n8n.createWorkflow(
			{
				name: 'budget in the editor',
				nodes: [
					{
						id: 'b0',
						name: TRIGGER,
						type: 'n8n-nodes-base.manualTrigger',
						typeVersion: 1,
						position: [0, 0],
						parameters: {},
					},
					{
						id: 'b1',
						name: LLM,
						type: 'n8n-nodes-resilient-llm.resilientLlm',
						typeVersion: 1,
						position: [240, 0],
						parameters: {
							prompt: PROMPT,
							chain: { tiers: [{ provider: 'anthropic', model: MODELS.anthropic }] },
						},
						credentials: {
							resilientLlmAnthropicApi: { id: null, name: CREDENTIAL_NAMES.anthropic },
						},
					},
				],
				connections: { [TRIGGER]: { main: [[{ node: LLM, type: 'main', index: 0 }]] } },
			},
			false,
		);
		await editor.openWorkflow(id, 2);
		await editor.openNode(LLM);
		await editor.addCollectionOption('Options', 'Budget (USD)');
		// Far less than one call's worst cost at Claude Haiku's price with 1,024 output tokens.
		await editor.setText('budgetUsd', '0.001');
		await editor.addCollectionOption('Options', 'Budget Period');
		await editor.selectOption('budgetPeriod', 'Per Execution');
		await editor.addCollectionOption('Options', 'Pace by Rate Limits');
		const calls = emulator.count('anthropic');
		await editor.executeStep();
		assert.deepEqual(await editor.outputBranches(), { Answered: 0, 'Needs Human': 1 });
		await editor.showOutput('Needs Human');
		assert.equal(await editor.outputValue('resilience.reason'), 'over_budget');
		assert.match(await editor.outputValue('reason'), /^The spend budget "workflow /);
		assert.equal(emulator.count('anthropic'), calls, 'no call was made past the budget');
		await editor.page.setViewportSize({ width: 1440, height: 1300 });
		await saveScreenshot(editor.page, 'editor-budget.png', {
			target: editor.ndv(),
			mask: varyingOutputFigures(editor.outputPanel()),
		});
		await editor.page.setViewportSize(EDITOR_VIEWPORT);
		await editor.closeNode();
	});
});
