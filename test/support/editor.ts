/**
 * n8n 2.41.1's editor, driven through its `data-test-id` attributes (the ones n8n's own
 * Playwright page objects use), plus a screenshot writer that leaves docs/ unchanged when
 * nothing visible changed.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import type { Browser, Locator, Page, Response } from 'playwright-core';
import { selectors } from 'playwright-core';

import { ROOT } from '../harness/pack';
import { differingPixels } from './pngPixels';

// n8n marks its elements with data-test-id, not Playwright's default data-testid.
selectors.setTestIdAttribute('data-test-id');

/** One size for every editor page, so that screenshots are comparable between runs. */
export const EDITOR_VIEWPORT = { width: 1440, height: 900 };

const TIMEOUT = { ui: 15_000, run: 60_000, navigation: 60_000 };

/** What the editor's push channel said about an execution: each status, in order. */
type ExecutionEvents = Map<string, string[]>;

export interface CredentialResult {
	/** The banner the credential dialog shows, e.g. "Connection tested successfully". */
	banner: string;
	/** What n8n's credential test endpoint answered when the credential was saved. */
	test: { status: string; message: string };
}

export class Editor {
	private readonly executions: ExecutionEvents = new Map();
	private readonly listeners = new Set<() => void>();

	constructor(
		readonly page: Page,
		readonly baseUrl: string,
	) {
		page.setDefaultTimeout(TIMEOUT.ui);
		page.setDefaultNavigationTimeout(TIMEOUT.navigation);
		// The push channel says when an execution finished or started waiting; waiting on it
		// avoids mistaking the previous run's output, still on screen, for the new one.
		page.on('websocket', (socket) => {
			socket.on('framereceived', ({ payload }) => this.onPush(String(payload)));
		});
	}

	static async open(browser: Browser, baseUrl: string): Promise<Editor> {
		const page = await browser.newPage({ viewport: EDITOR_VIEWPORT, deviceScaleFactor: 1 });
		return new Editor(page, baseUrl);
	}

	private onPush(payload: string): void {
		let message: { type?: string; data?: { executionId?: string; status?: string } };
		try {
			message = JSON.parse(payload) as typeof message;
		} catch {
			return;
		}
		const id = message.data?.executionId;
		if (!id) return;
		const status =
			message.type === 'executionFinished'
				? (message.data?.status ?? 'finished')
				: message.type === 'executionWaiting'
					? 'waiting'
					: undefined;
		if (!status) return;
		this.executions.set(id, [...(this.executions.get(id) ?? []), status]);
		for (const listener of this.listeners) listener();
	}

	/** Resolves once the push channel reported `status` for the execution (bounded). */
	async waitForExecution(executionId: string, status: string, timeoutMs = TIMEOUT.run) {
		const seen = () => this.executions.get(executionId)?.includes(status) ?? false;
		if (seen()) return;
		await new Promise<void>((resolve, reject) => {
			const timer = setTimeout(() => {
				this.listeners.delete(check);
				reject(
					new Error(
						`execution ${executionId} did not reach "${status}" within ${timeoutMs} ms (saw ${JSON.stringify(this.executions.get(executionId) ?? [])})`,
					),
				);
			}, timeoutMs);
			const check = () => {
				if (!seen()) return;
				clearTimeout(timer);
				this.listeners.delete(check);
				resolve();
			};
			this.listeners.add(check);
		});
	}

	// --- Sign-in and workflows -------------------------------------------------------------

	async signIn(email: string, password: string): Promise<void> {
		await this.page.goto(`${this.baseUrl}/signin`);
		await this.page.fill('input[name="emailOrLdapLoginId"]', email);
		await this.page.fill('input[name="password"]', password);
		await this.page.getByTestId('form-submit-button').click();
		await this.page.waitForURL((url) => !url.pathname.startsWith('/signin'));
	}

	/** An empty canvas; n8n 2.x saves the new workflow at once and moves to its id. */
	async newWorkflow(): Promise<string> {
		await this.page.goto(`${this.baseUrl}/workflow/new`);
		await this.page.getByTestId('canvas-plus-button').waitFor();
		await this.page.waitForURL(/\/workflow\/[^/?]+/);
		return this.workflowId();
	}

	workflowId(): string {
		const id = /\/workflow\/([^/?]+)/.exec(new URL(this.page.url()).pathname)?.[1];
		if (!id || id === 'new') throw new Error(`no workflow id in ${this.page.url()}`);
		return id;
	}

	/** Opens a saved workflow and waits until its canvas shows `nodeCount` nodes. */
	async openWorkflow(id: string, nodeCount: number): Promise<void> {
		await this.page.goto(`${this.baseUrl}/workflow/${id}`);
		await this.canvasNodes()
			.nth(nodeCount - 1)
			.waitFor();
	}

	canvasNodes(): Locator {
		return this.page.getByTestId('canvas-node');
	}

	canvasNode(name: string): Locator {
		return this.page.locator(`[data-test-id="canvas-node"][data-node-name="${name}"]`);
	}

	/** Names of the nodes showing the canvas's issue indicator (the red triangle). */
	async nodesWithIssues(): Promise<string[]> {
		const flagged = this.canvasNodes().filter({ has: this.page.getByTestId('node-issues') });
		const names = await flagged.evaluateAll((nodes) =>
			nodes.map((node) => node.getAttribute('data-node-name') ?? '?'),
		);
		return names.sort();
	}

	/** The list n8n shows on hovering a node's issue indicator. */
	async issueText(nodeName: string): Promise<string> {
		await this.canvasNode(nodeName).getByTestId('node-issues').hover();
		const tooltip = this.page.locator('.n8n-tooltip').filter({ visible: true, hasText: /\S/ });
		const text = (await tooltip.first().innerText()).replace(/\s+/g, ' ').trim();
		await this.page.mouse.move(0, 0);
		await tooltip.first().waitFor({ state: 'hidden' });
		return text;
	}

	async zoomToFit(): Promise<void> {
		await this.page.getByTestId('zoom-to-fit').click();
		await this.canvasSettled();
	}

	/** Waits until the canvas stops moving (zoom to fit animates with JavaScript, not CSS). */
	async canvasSettled(): Promise<void> {
		type Probe = { transform?: string; stableFrames?: number };
		await this.page.evaluate(() => {
			(window as unknown as { canvasProbe: Probe }).canvasProbe = {};
		});
		// Settled: the same transform over ten animation frames in a row.
		await this.page.waitForFunction(
			() => {
				const probe = (window as unknown as { canvasProbe: Probe }).canvasProbe;
				const pane = document.querySelector('.vue-flow__transformationpane');
				const transform = pane ? getComputedStyle(pane).transform : '';
				probe.stableFrames = probe.transform === transform ? (probe.stableFrames ?? 0) + 1 : 0;
				probe.transform = transform;
				return probe.stableFrames >= 10;
			},
			undefined,
			{ polling: 'raf' },
		);
	}

	// --- Node panel ------------------------------------------------------------------------

	nodePanel(): Locator {
		return this.page.getByTestId('node-creator');
	}

	/** A node listed in the node panel, by its exact name. */
	nodePanelItem(name: string): Locator {
		return this.nodePanel()
			.getByTestId('node-creator-node-item')
			.filter({
				has: this.page.getByTestId('node-creator-item-name').getByText(name, { exact: true }),
			});
	}

	/** Whether a node panel item carries the trigger mark (the bolt next to its name). */
	async isTriggerItem(name: string): Promise<boolean> {
		return (await this.nodePanelItem(name).locator('svg[data-icon="bolt-filled"]').count()) > 0;
	}

	/** The first step's panel ("What triggers this workflow?"). */
	async openTriggerPanel(): Promise<void> {
		await this.page.getByTestId('canvas-plus-button').click();
		await this.nodePanel().waitFor();
	}

	/** The panel for what follows a node's output (0 = first output, e.g. Answered). */
	async openNextPanel(source: string, output = 0): Promise<void> {
		// New nodes land to the right, where the canvas's own buttons can cover their handles.
		await this.zoomToFit();
		await this.page
			.locator(
				`[data-test-id="canvas-node-output-handle"][data-node-name="${source}"][data-index="${output}"]`,
			)
			.getByTestId('canvas-handle-plus')
			.click();
		await this.nodePanel().waitFor();
	}

	/**
	 * The panel for what feeds a node's sub-node input, e.g. an AI Agent's `ai_languageModel`;
	 * `index` counts the node's inputs of that type (1 is Resilient Chat Model's Model 2).
	 */
	async openInputPanel(target: string, connectionType: string, index = 0): Promise<void> {
		await this.zoomToFit();
		await this.page
			.locator(
				`[data-test-id="canvas-node-input-handle"][data-node-name="${target}"][data-connection-type="${connectionType}"][data-index="${index}"]`,
			)
			.getByTestId('canvas-handle-plus')
			.click();
		await this.nodePanel().waitFor();
	}

	/** The canvas connection from one node to another, of any type. */
	edge(source: string, target: string): Locator {
		return this.page.locator(
			`[data-test-id="edge"][data-source-node-name="${source}"][data-target-node-name="${target}"]`,
		);
	}

	async searchNodePanel(query: string): Promise<void> {
		await this.page.getByTestId('node-creator-search-bar').fill(query);
	}

	/**
	 * Picks a searched node. A community node first shows its details with "Add to workflow";
	 * a stock node is added at once. Resolves once the node is on the canvas.
	 */
	async pickNode(name: string, canvasName = name): Promise<void> {
		await this.nodePanelItem(name).click();
		const addToWorkflow = this.nodePanel()
			.getByTestId('item-iterator-item')
			.filter({ hasText: 'Add to workflow' });
		const added = this.canvasNode(canvasName);
		const first = await Promise.race([
			addToWorkflow.waitFor().then(
				() => 'details' as const,
				() => undefined,
			),
			added.waitFor().then(
				() => 'added' as const,
				() => undefined,
			),
		]);
		if (first === 'details') await addToWorkflow.click();
		await added.waitFor();
	}

	/** Adds the first node of an empty workflow through the panel's search. */
	async addFirstNode(query: string, name: string, canvasName = name): Promise<void> {
		await this.openTriggerPanel();
		await this.searchNodePanel(query);
		await this.pickNode(name, canvasName);
	}

	/** Adds a node on a node's output through the panel's search. */
	async addNodeAfter(
		source: string,
		query: string,
		name: string,
		options: { output?: number; canvasName?: string } = {},
	): Promise<void> {
		await this.openNextPanel(source, options.output ?? 0);
		await this.searchNodePanel(query);
		await this.pickNode(name, options.canvasName ?? name);
	}

	// --- Node details view (NDV) -----------------------------------------------------------

	ndv(): Locator {
		return this.page.getByTestId('ndv');
	}

	async openNode(name: string): Promise<void> {
		await this.canvasNode(name).dblclick();
		await this.ndv().waitFor();
	}

	async closeNode(): Promise<void> {
		await this.page.getByTestId('ndv-close-button').click();
		await this.ndv().waitFor({ state: 'hidden' });
	}

	async closeNodeIfOpen(): Promise<void> {
		if (await this.ndv().isVisible()) await this.closeNode();
	}

	/** Scrolls the open node's parameter list back to its top. */
	async scrollParametersToTop(): Promise<void> {
		await this.ndv()
			.getByTestId('node-parameters')
			.evaluate((list) => {
				for (let box = list.parentElement; box; box = box.parentElement) {
					if (/(auto|scroll)/.test(getComputedStyle(box).overflowY)) box.scrollTop = 0;
				}
			});
	}

	/** A parameter's input; `scope` narrows it, e.g. to one fixedCollection. */
	parameter(name: string, index = 0, scope: Locator = this.ndv()): Locator {
		return scope.getByTestId(`parameter-input-${name}`).nth(index);
	}

	/** The entries of a fixedCollection parameter (e.g. Model Chain is `chain`). */
	fixedCollection(name: string): Locator {
		return this.ndv().getByTestId(`fixed-collection-${name}`);
	}

	/** Types into a string or number parameter, then leaves it so that n8n stores the value. */
	async setText(name: string, value: string, index = 0, scope?: Locator): Promise<void> {
		const input = this.parameter(name, index, scope).locator('input, textarea').first();
		await input.fill(value);
		await input.blur();
	}

	async textOf(name: string, index = 0, scope?: Locator): Promise<string> {
		return this.parameter(name, index, scope).locator('input, textarea').first().inputValue();
	}

	/** Opens an options parameter's dropdown and returns what it offers. */
	async dropdownOptions(name: string, index = 0, scope?: Locator): Promise<string[]> {
		await this.parameter(name, index, scope).click();
		const options = this.page.getByRole('option').filter({ visible: true });
		await options.first().waitFor();
		return (await options.allInnerTexts()).map((text) => text.split('\n')[0].trim());
	}

	/**
	 * Chooses an option of an options parameter by its exact label; an option with a
	 * description under its label is found by the label alone.
	 */
	async selectOption(name: string, option: string, index = 0, scope?: Locator): Promise<void> {
		await this.parameter(name, index, scope).click();
		await this.page
			.getByRole('option', { name: option, exact: true })
			.or(
				this.page.getByRole('option').filter({ has: this.page.getByText(option, { exact: true }) }),
			)
			.filter({ visible: true })
			.first()
			.click();
	}

	async setSwitch(name: string, on: boolean, index = 0, scope?: Locator): Promise<void> {
		const control = this.parameter(name, index, scope).locator('.el-switch');
		const checked = control.locator('input[role="switch"]');
		if (((await checked.getAttribute('aria-checked')) === 'true') !== on) await control.click();
	}

	/** Adds an entry to a fixedCollection by its button, e.g. "Add Tier". */
	async addFixedCollectionEntry(buttonLabel: string): Promise<void> {
		await this.ndv().getByTestId('fixed-collection-add').filter({ hasText: buttonLabel }).click();
	}

	/** Adds an option of a collection parameter ("Options", "Tier Options") by its label. */
	async addCollectionOption(collectionLabel: string, option: string, index = 0): Promise<void> {
		const collection = this.ndv()
			.getByTestId('parameter-item')
			.filter({
				has: this.page.getByTestId('input-label').getByText(collectionLabel, { exact: true }),
			})
			.nth(index);
		await collection.getByTestId('collection-parameter-add').click();
		await this.page
			.getByRole('option', { name: option, exact: true })
			.filter({ visible: true })
			.click();
	}

	/**
	 * A resource locator in "From List" mode: opens the list, returns the entries it shows
	 * (after they loaded) and picks `value`.
	 */
	async pickFromList(name: string, value: string, index = 0, scope?: Locator): Promise<string[]> {
		const locator = (scope ?? this.ndv()).getByTestId(`resource-locator-${name}`).nth(index);
		const mode = locator.getByTestId('rlc-mode-selector').locator('input');
		if ((await mode.inputValue()) !== 'From list') {
			await locator.getByTestId('rlc-mode-selector').click();
			await this.page.getByRole('option', { name: 'From list', exact: true }).click();
		}
		await locator.getByTestId('rlc-input').click();
		const items = this.page.getByTestId('rlc-item').filter({ visible: true });
		const problem = this.page.getByTestId('rlc-error-container').filter({ visible: true });
		const wanted = items.filter({ hasText: new RegExp(`^\\s*${escapeRegExp(value)}\\s*$`) });
		// Until the list has loaded, some nodes show only the value they start with.
		await wanted.or(problem.first()).waitFor();
		if (await problem.first().isVisible())
			throw new Error(`the ${name} list shows an error: ${await problem.first().innerText()}`);
		const listed = (await items.allInnerTexts()).map((text) => text.trim());
		await wanted.click();
		await waitForValue(locator.getByTestId('rlc-input'), value);
		return listed;
	}

	/** Adds a field to an Edit Fields (Set) node whose value is an expression. */
	async addSetField(name: string, expression: string): Promise<void> {
		const ndv = this.ndv();
		await ndv.getByTestId('assignment-collection-drop-area').getByText('Add Field').click();
		const assignment = ndv.getByTestId('assignment').last();
		await assignment.getByTestId('assignment-name').locator('input').fill(name);
		// The Expression switch appears on hover; a focused field's tip would cover it.
		await assignment.getByTestId('assignment-name').locator('input').blur();
		await assignment.hover();
		await assignment.getByTestId('assignment-value').getByTestId('radio-button-expression').click();
		const editor = assignment
			.getByTestId('assignment-value')
			.getByTestId('inline-expression-editor-input');
		await editor.click();
		// The expression editor closes brackets itself: type the opening part only.
		await this.page.keyboard.type(expression.replace(/\s*\}\}\s*$/, ''));
		// The editor stores the expression after a pause; its preview changes when it has.
		await assignment
			.getByTestId('parameter-expression-preview-value')
			.filter({ hasNotText: '[empty]' })
			.waitFor();
		await ndv.getByTestId('input-label').getByText('Fields to Set', { exact: true }).click();
	}

	// --- Credentials -----------------------------------------------------------------------

	/** A credential slot of the open node, by its label (e.g. "Anthropic"). */
	credentialSlot(label: string): Locator {
		return this.ndv()
			.getByTestId('node-credentials-slot')
			.filter({
				has: this.page.getByTestId('credentials-label').getByText(label, { exact: true }),
			});
	}

	credentialDialog(): Locator {
		return this.page.getByTestId('editCredential-modal');
	}

	/**
	 * Creates a credential from a slot of the open node ("Connect to ..." or the slot's
	 * "Create new credential"), fills it, names it (or keeps the name n8n proposes), saves it,
	 * and reads its connection test.
	 */
	async createCredential(
		slotLabel: string,
		fields: Record<string, string>,
		name?: string,
	): Promise<CredentialResult> {
		const slot = this.credentialSlot(slotLabel);
		const empty = slot.getByTestId('node-credentials-empty-state');
		if (await empty.isVisible()) {
			await empty.click();
		} else {
			await slot.getByTestId('node-credentials-select').click();
			await this.page
				.getByTestId('node-credentials-select-item-new')
				.filter({ visible: true })
				.click();
		}
		const dialog = this.credentialDialog();
		await dialog.waitFor();
		for (const [key, value] of Object.entries(fields)) {
			const input = dialog.getByTestId(`parameter-input-${key}`).locator('input, textarea');
			await input.fill(value);
		}
		if (name !== undefined) {
			const title = dialog.getByTestId('credential-name');
			await title.click();
			await title.getByTestId('inline-edit-input').fill(name);
			await title.getByTestId('inline-edit-input').press('Enter');
		}
		const tested = this.page.waitForResponse(
			(r) => r.url().endsWith('/rest/credentials/test') && r.request().method() === 'POST',
		);
		await dialog.getByTestId('credential-save-button').click();
		const test = await responseData<{ status: string; message: string }>(await tested);
		// From the node view a passing credential closes its dialog at once; the dialog tests
		// the credential again when it is opened, and shows the result.
		const shown = await Promise.race([
			this.credentialBanner(dialog).catch(() => undefined),
			dialog.waitFor({ state: 'hidden' }).then(
				() => undefined,
				() => undefined,
			),
		]);
		const banner = shown ?? (await this.openCredential(slotLabel));
		await this.closeCredentialDialog();
		return { banner, test };
	}

	/** Opens the slot's selected credential and returns its connection test banner. */
	async openCredential(slotLabel: string): Promise<string> {
		await this.credentialSlot(slotLabel).getByTestId('credential-edit-button').click();
		return this.credentialBanner(this.credentialDialog());
	}

	private async credentialBanner(dialog: Locator): Promise<string> {
		const success = dialog.getByTestId('credentials-config-container-test-success');
		const failure = dialog.getByText(/Couldn.t connect with these settings/);
		const banner = success.or(failure).first();
		await banner.waitFor();
		return (await banner.innerText()).replace(/\s+/g, ' ').trim();
	}

	async closeCredentialDialog(): Promise<void> {
		const dialog = this.credentialDialog();
		if (!(await dialog.isVisible())) return;
		await dialog.getByRole('button', { name: 'Close this dialog' }).click();
		await dialog.waitFor({ state: 'hidden' });
	}

	/** The credential a slot of the open node holds, as its select shows it. */
	async selectedCredential(slotLabel: string): Promise<string> {
		return this.credentialSlot(slotLabel)
			.getByTestId('node-credentials-select')
			.locator('input')
			.inputValue();
	}

	// --- Running ---------------------------------------------------------------------------

	/**
	 * Clicks something that starts a manual execution and waits until the push channel says
	 * it finished (or, with `until: 'waiting'`, that it waits). Returns the execution id.
	 */
	async run(
		start: () => Promise<void>,
		until: 'success' | 'error' | 'waiting' = 'success',
	): Promise<string> {
		const started = this.page.waitForResponse(
			(r) =>
				/\/rest\/workflows\/[^/]+\/run$/.test(new URL(r.url()).pathname) &&
				r.request().method() === 'POST',
			{ timeout: TIMEOUT.run },
		);
		await start();
		const { executionId } = await responseData<{ executionId: string }>(await started);
		await this.waitForExecution(executionId, until);
		return executionId;
	}

	/** "Execute step" in the open node. */
	async executeStep(until?: 'success' | 'error' | 'waiting'): Promise<string> {
		return this.run(() => this.ndv().getByTestId('node-execute-button').click(), until);
	}

	/** The canvas's "Execute workflow". */
	async executeWorkflow(until?: 'success' | 'error' | 'waiting'): Promise<string> {
		return this.run(() => this.page.getByTestId('execute-workflow-button').first().click(), until);
	}

	// --- Output panel ----------------------------------------------------------------------

	outputPanel(): Locator {
		return this.ndv().getByTestId('output-panel');
	}

	/** Item counts per output as the output panel's branch tabs show them. */
	async outputBranches(): Promise<Record<string, number>> {
		const tabs = this.outputPanel().getByTestId('branches').getByRole('tab');
		await tabs.first().waitFor();
		const counts: Record<string, number> = {};
		for (const text of await tabs.allInnerTexts()) {
			const match = /^(.*?) Branch(?: \((\d+) items?\))?/.exec(text.trim());
			if (match) counts[match[1]] = Number(match[2] ?? 0);
		}
		return counts;
	}

	/** Shows one output ("Answered", "Needs Human", ...) in the output panel. */
	async showOutput(branch: string): Promise<void> {
		const tab = this.outputPanel()
			.getByTestId('branches')
			.getByRole('tab')
			.filter({ hasText: new RegExp(`^${escapeRegExp(branch)} Branch`) });
		await tab.click();
		await tab.and(this.page.locator('[aria-selected="true"]')).waitFor();
	}

	/** Switches the output panel to Table, JSON or Schema. */
	async outputView(view: 'Table' | 'JSON' | 'Schema'): Promise<void> {
		await this.outputPanel().getByTestId(`radio-button-${view.toLowerCase()}`).click();
	}

	/**
	 * A value of the first item shown in the output panel's table view: a top-level field
	 * ("reason") by its column, a nested one ("resilience.tier") by its path.
	 */
	async outputValue(path: string): Promise<string> {
		await this.outputView('Table');
		const table = this.outputPanel().getByTestId('ndv-data-container').locator('table');
		await table.waitFor();
		if (!path.includes('.')) {
			const headers = (await table.locator('thead th').allInnerTexts()).map((h) => h.trim());
			const column = headers.indexOf(path);
			if (column < 0) throw new Error(`no column "${path}" in the output: ${headers.join(', ')}`);
			return (await table.locator('tbody tr').first().locator('td').nth(column).innerText()).trim();
		}
		// Each key of a nested value carries the expression that maps it, ending in its path.
		const key = table.locator(`[data-value$=".json.${path} }}"]`).first();
		return (await key.locator('xpath=following-sibling::span[last()]').innerText()).trim();
	}
}

/** Waits until an input holds `value` (Vue sets it as a property, not an attribute). */
async function waitForValue(input: Locator, value: string): Promise<void> {
	const element = await input.elementHandle();
	await input
		.page()
		.waitForFunction(([el, wanted]) => (el as HTMLInputElement).value === wanted, [
			element,
			value,
		] as const);
}

function escapeRegExp(text: string): string {
	return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function responseData<T>(response: Response): Promise<T> {
	const body = (await response.json()) as { data?: T };
	if (!response.ok()) throw new Error(`${response.url()}: ${response.status()}`);
	return (body.data ?? body) as T;
}

// --- Screenshots for docs/ ------------------------------------------------------------------

export interface ScreenshotOptions {
	/** One element instead of the viewport. */
	target?: Locator;
	/** The whole scrollable page (when no target). */
	fullPage?: boolean;
	/** Figures that change from run to run (durations, dates, ids): each is covered with a box. */
	mask?: Locator[];
	/** Extra CSS while the shot is taken. */
	style?: string;
}

const MASKED = 'data-screenshot-mask';

/**
 * Toasts are never part of a docs screenshot. A masked figure gets a box of fixed size (a table
 * cell keeps its own, with no text in it), so that the mask, and everything next to it, is the
 * same whatever the figure's length.
 */
const SCREENSHOT_STYLE = `
.el-notification, .el-message { display: none !important; }
td[${MASKED}], th[${MASKED}] { font-size: 0 !important; }
[${MASKED}]:not(td):not(th) {
	display: inline-block !important; width: 4em; height: 1.2em; overflow: hidden;
	vertical-align: bottom; color: transparent !important;
}
`;

/**
 * Pixels a screenshot may differ by and still count as unchanged: on a busy machine Chromium
 * has been seen to shade two pixels of a dropdown's caret differently. One changed letter
 * changes several times this many.
 */
export const RENDERING_NOISE_PIXELS = 16;

/**
 * Saves a screenshot as docs/<name>, writing the file only when its content changed (more
 * than rendering noise), so that a run that changed nothing visible leaves the tree clean.
 * Returns whether it wrote.
 */
export async function saveScreenshot(
	page: Page,
	name: string,
	options: ScreenshotOptions = {},
): Promise<boolean> {
	const mask = options.mask ?? [];
	for (const locator of mask) {
		await locator.evaluateAll((elements, attribute) => {
			for (const element of elements) element.setAttribute(attribute, '');
		}, MASKED);
	}
	// Nothing hovered or focused: a pointer or a focus ring left over from the test varies.
	await page.mouse.move(0, 0);
	await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur?.());
	const shot = {
		animations: 'disabled' as const,
		caret: 'hide' as const,
		scale: 'css' as const,
		mask,
		maskColor: '#c9ced6',
		style: `${SCREENSHOT_STYLE}${options.style ?? ''}`,
	};
	let png: Buffer;
	try {
		png = options.target
			? await options.target.screenshot(shot)
			: await page.screenshot({ ...shot, fullPage: options.fullPage ?? false });
	} finally {
		for (const locator of mask) {
			await locator
				.evaluateAll((elements, attribute) => {
					for (const element of elements) element.removeAttribute(attribute);
				}, MASKED)
				.catch(() => undefined);
		}
	}
	const path = join(ROOT, 'docs', name);
	if (existsSync(path)) {
		const saved = readFileSync(path);
		if (saved.equals(png) || differingPixels(saved, png) <= RENDERING_NOISE_PIXELS) return false;
	}
	mkdirSync(dirname(path), { recursive: true });
	writeFileSync(path, png);
	return true;
}
