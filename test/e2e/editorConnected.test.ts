/**
 * Connected chat models as a user sets them up in n8n's editor, in Chromium, from an empty
 * canvas: a Basic LLM Chain with Resilient Chat Model on its Chat Model input, two Model
 * inputs asked for in its panel, n8n's own OpenAI and Anthropic Chat Models added on them
 * from the node panel (their credentials made in the editor's dialog, pointing at the
 * provider emulator), and a chain whose two tiers call them. Saves the README's screenshot
 * of that canvas.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { Browser } from 'playwright-core';

import { ProviderEmulator } from '../../lib/emulator/server';
import type { Rule } from '../../lib/emulator/scenario';
import { N8n, OWNER } from '../harness/n8n';
import { launchChromium } from '../support/browser';
import { Editor, saveScreenshot } from '../support/editor';
import { KEYS, MODELS } from '../support/emulator';

const emulator = new ProviderEmulator();
let n8n: N8n;
let browser: Browser;
let editor: Editor;

const TRIGGER = 'When clicking ‘Execute workflow’';
const CHAIN = 'Basic LLM Chain';
const RESILIENT = 'Resilient Chat Model';
const OPENAI = 'OpenAI Chat Model';
const ANTHROPIC = 'Anthropic Chat Model';
/** The label of a stock node's only credential slot. */
const CREDENTIAL_SLOT = 'Credential';
const PROMPT = 'Summarise this ticket: the blender arrived cracked.';

function setFaults(rules: Rule[]): void {
	emulator.loadScenario({ apiKeys: KEYS, rules });
	emulator.resetCounts();
}

/**
 * Adds a stock chat model from the "+" on one of Resilient Chat Model's Model inputs (0 is
 * Model 1), creates its credential in the dialog and picks its model from the list n8n
 * loads with that credential.
 */
async function addStockModel(
	input: number,
	name: string,
	credential: Record<string, string>,
	model: string,
): Promise<string[]> {
	await editor.openInputPanel(RESILIENT, 'ai_languageModel', input);
	await editor.searchNodePanel(name);
	await editor.pickNode(name);
	await editor.edge(name, RESILIENT).waitFor();
	if (!(await editor.ndv().isVisible())) await editor.openNode(name);
	const created = await editor.createCredential(CREDENTIAL_SLOT, credential);
	assert.equal(created.test.status, 'OK', `${name}: ${created.test.message}`);
	return editor.pickFromList('model', model);
}

/** Drags a canvas node sideways by `dx` pixels, as with the mouse. */
async function dragNode(name: string, dx: number): Promise<void> {
	const box = await editor.canvasNode(name).boundingBox();
	if (!box) throw new Error(`${name} is not on the canvas`);
	const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
	await editor.page.mouse.move(x, y);
	await editor.page.mouse.down();
	await editor.page.mouse.move(x + dx, y, { steps: 10 });
	await editor.page.mouse.up();
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

describe('in the n8n editor, chat model nodes on Model inputs', { timeout: 600_000 }, () => {
	it("a Basic LLM Chain's Chat Model input takes Resilient Chat Model from the node panel", async () => {
		await editor.newWorkflow();
		await editor.addFirstNode('Manual', 'Manual Trigger', TRIGGER);
		await editor.addNodeAfter(TRIGGER, CHAIN, CHAIN);
		if (!(await editor.ndv().isVisible())) await editor.openNode(CHAIN);
		await editor.selectOption('promptType', 'Define below');
		await editor.setText('text', PROMPT);
		await editor.closeNode();

		await editor.openInputPanel(CHAIN, 'ai_languageModel');
		await editor.searchNodePanel(RESILIENT);
		await editor.pickNode(RESILIENT);
		await editor.edge(RESILIENT, CHAIN).waitFor();
	});

	it('Connected Chat Models set to 2 gives the node a Model 1 and a Model 2 input on the canvas', async () => {
		await editor.closeNodeIfOpen();
		const inputs = editor.page.locator(
			`[data-test-id="canvas-node-input-handle"][data-node-name="${RESILIENT}"]`,
		);
		assert.equal(await inputs.count(), 0, 'no Model input before any is asked for');
		await editor.openNode(RESILIENT);
		await editor.setText('connectedModels', '2');
		assert.equal(await editor.textOf('connectedModels'), '2');
		await editor.closeNode();
		await inputs.nth(1).waitFor();
		assert.equal(await inputs.count(), 2);
		assert.deepEqual(
			(await inputs.allInnerTexts()).map((text) => text.trim()),
			['Model 1', 'Model 2'],
		);
	});

	it('OpenAI Chat Model on Model 1 and Anthropic Chat Model on Model 2, each with a credential made in the dialog', async () => {
		const gpt = await addStockModel(
			0,
			OPENAI,
			{ apiKey: KEYS.openai, url: emulator.urls.openai },
			MODELS.openai,
		);
		assert.ok(gpt.includes(MODELS.openai), `listed: ${gpt.join(', ')}`);
		// The emulator speaks chat completions, not the Responses API.
		if (await editor.parameter('responsesApiEnabled').isVisible())
			await editor.setSwitch('responsesApiEnabled', false);
		await editor.closeNode();

		const claude = await addStockModel(
			1,
			ANTHROPIC,
			{ apiKey: KEYS.anthropic, url: emulator.urls.anthropic },
			MODELS.anthropic,
		);
		assert.ok(claude.includes(MODELS.anthropic), `listed: ${claude.join(', ')}`);
		await editor.closeNode();
		assert.equal(await editor.edge(OPENAI, RESILIENT).count(), 1);
		assert.equal(await editor.edge(ANTHROPIC, RESILIENT).count(), 1);
	});

	it('a two-tier chain: tier 1 calls Model 1, tier 2 Model 2; no node shows an issue', async () => {
		await editor.openNode(RESILIENT);
		const chain = editor.fixedCollection('chain');
		await editor.selectOption('provider', 'Connected Chat Model', 0, chain);
		// A connected tier's model is its node's: the Model picker gives way to the input number.
		assert.equal(await chain.getByTestId('resource-locator-model').count(), 0);
		await editor.setText('connectedModel', '1', 0, chain);
		await editor.setText('attempts', '2', 0, chain);
		await editor.addFixedCollectionEntry('Add Tier');
		await editor.selectOption('provider', 'Connected Chat Model', 1, chain);
		await editor.setText('connectedModel', '2', 1, chain);
		await editor.setText('attempts', '1', 1, chain);
		await editor.addCollectionOption('Options', 'Backoff Start (Ms)');
		await editor.setText('initialBackoffMs', '10');
		assert.deepEqual(
			[
				await editor.textOf('connectedModel', 0, chain),
				await editor.textOf('connectedModel', 1, chain),
			],
			['1', '2'],
		);
		assert.equal(await chain.getByTestId('resource-locator-model').count(), 0);
		await editor.closeNode();
		// The node's subtitle names the chain by its inputs.
		await editor.canvasNode(RESILIENT).getByText('Model 1 → Model 2').waitFor();
		assert.deepEqual(await editor.nodesWithIssues(), []);
	});

	it("with Model 1's model overloaded, the chain's answer comes from Model 2, after tier 1's tries", async () => {
		setFaults([{ provider: 'openai', model: MODELS.openai, fault: 'overloaded' }]);
		await editor.executeWorkflow();
		assert.equal(emulator.count('openai', MODELS.openai), 2, "tier 1's two tries on Model 1");
		assert.equal(emulator.count('anthropic', MODELS.anthropic), 1, 'one call on Model 2');
		// Only Model 1's node is marked, with its failed tries: the configuration has no issue.
		assert.deepEqual(await editor.nodesWithIssues(), [OPENAI]);
		assert.match(await editor.issueText(OPENAI), /currently overloaded.*\(x2\)/);

		// The canvas as the README shows it: Model 1 failed, Model 2 answered.
		await editor.page.getByTestId('tidy-up-button').click();
		// Tidied, the two chat models' names touch: Model 2's goes a little to the right.
		await dragNode(ANTHROPIC, 60);
		await editor.zoomToFit();
		// Nothing selected: a click on the empty canvas.
		await editor.page.locator('.vue-flow__pane').click({ position: { x: 5, y: 5 } });
		await saveScreenshot(editor.page, 'editor-connected-models.png');

		await editor.openNode(CHAIN);
		assert.equal(
			await editor.outputValue('text'),
			`Emulated answer from anthropic/${MODELS.anthropic}.`,
		);
		await editor.closeNode();
	});
});
