/**
 * The Resilience Alert's budget alerts and spend figure over a budget that real Resilient LLM
 * runs (against the emulator) spent: one item at 80 %, one at 100 %, never again for the same
 * trigger and period; a test run from the editor shows them without using them up; another
 * trigger gets its own; the option turns them off.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';

import type { IDataObject, INodeExecutionData } from 'n8n-workflow';

import { ResilienceAlert } from '../../nodes/ResilienceAlert/ResilienceAlert.node.ts';
import { ResilientLlm } from '../../nodes/ResilientLlm/ResilientLlm.node.ts';
import { LLM_NODE_TYPE } from '../../nodes/shared/stateStores';
import { KEYS, MODELS, useEmulator } from '../support/emulator';
import { fakeExecute, fakePoll } from '../support/fakeExecute';

const ctx = useEmulator();
let userFolder = '';
before(() => {
	// The trigger finds the embedded store under n8n's user folder, as in n8n.
	userFolder = mkdtempSync(join(tmpdir(), 'budget-alert-user-folder-'));
	process.env.N8N_USER_FOLDER = userFolder;
});

/**
 * One tier priced so that each call costs $0.01: the emulator bills 10 input tokens for a
 * prompt of 25 to 28 characters, at $1,000 a million; output is free.
 */
const CHAIN = {
	tiers: [
		{
			provider: 'anthropic',
			model: MODELS.anthropic,
			attempts: 1,
			inputPrice: 1000,
			outputPrice: 0,
		},
	],
};
let tickets = 10;

/** Runs `count` items through a Resilient LLM with a $0.10 daily budget: [answered, needs human]. */
async function runTasks(count: number): Promise<INodeExecutionData[][]> {
	const items = Array.from({ length: count }, () => ({
		text: `Summarise ticket ${tickets++} please.`,
	}));
	const run = fakeExecute({
		items,
		parameters: {
			prompt: (i: number) => items[i].text,
			chain: CHAIN,
			options: { initialBackoffMs: 1, budgetUsd: 0.1, budgetPeriod: 'day' },
		},
		credentials: {
			resilientLlmAnthropicApi: { apiKey: KEYS.anthropic, baseUrl: ctx.emulator.urls.anthropic },
		},
		storagePath: join(userFolder, '.n8n', 'storage', LLM_NODE_TYPE),
	});
	return new ResilientLlm().execute.call(run.context);
}

const PARAMETERS = { windowMinutes: 15, minTasks: 1000, alertOnBreaker: true };

function poll(options: { mode?: 'manual'; nodeId?: string; alertOnBudget?: boolean } = {}) {
	return new ResilienceAlert().poll.call(
		fakePoll({
			parameters: { ...PARAMETERS, alertOnBudget: options.alertOnBudget ?? true },
			staticData: {},
			...options,
		}),
	);
}

const thresholdsOf = (fired: INodeExecutionData[][] | null) =>
	(fired?.[0] ?? []).map((i) => i.json.threshold);

describe('Resilience Alert: spend budgets', () => {
	it('fires once at 80 % and once at 100 % of a budget; calls past it go to a person', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS });
		const [first] = await runTasks(7);
		assert.equal(first.length, 7);
		assert.equal((first[0].json.resilience as IDataObject).costUsd, 0.01, 'each call $0.01');
		assert.equal(await poll(), null, '$0.07 of $0.10: quiet');

		await runTasks(1);
		const at80 = await poll();
		assert.deepEqual(thresholdsOf(at80), ['80%']);
		const item = at80![0][0].json;
		assert.deepEqual(
			{ ...item, workflowUrl: undefined },
			{
				event: 'threshold_reached',
				kind: 'budget',
				budget: 'workflow Ticket summaries',
				period: item.period,
				limitUsd: 0.1,
				spentUsd: 0.08,
				share: 0.8,
				threshold: '80%',
				workflowId: 'wf-1',
				workflowUrl: undefined,
				spend: { todayUsd: 0.08, byModel: { [`anthropic/${MODELS.anthropic}`]: 0.08 } },
			},
		);
		assert.match(String(item.period), /^day \d{4}-\d{2}-\d{2}$/);
		assert.equal(item.workflowUrl, 'http://n8n.example.test/workflow/wf-1');
		assert.equal(await poll(), null, 'announced: not again');

		await runTasks(1);
		assert.equal(await poll(), null, '$0.09: still 80 %');
		const [answered, toPerson] = await runTasks(3);
		assert.equal(answered.length, 1, 'the tenth cent fits');
		assert.deepEqual(
			toPerson.map((i) => (i.json.resilience as IDataObject).reason),
			['over_budget', 'over_budget'],
		);
		const at100 = await poll();
		assert.deepEqual(thresholdsOf(at100), ['100%']);
		assert.equal(at100![0][0].json.spentUsd, 0.1);
		assert.equal(at100![0][0].json.share, 1);
		assert.equal(at100![0][0].json.callsTurnedAway, true);
		assert.equal(await poll(), null);
	});

	it('a test run shows every threshold reached and uses none up; each trigger gets its own', async () => {
		const manual = await poll({ mode: 'manual', nodeId: 'alert-2' });
		assert.deepEqual(thresholdsOf(manual), ['80%', '100%']);
		assert.deepEqual(thresholdsOf(await poll({ nodeId: 'alert-2' })), ['80%', '100%']);
		assert.equal(await poll({ nodeId: 'alert-2' }), null);
		assert.equal(await poll({ nodeId: 'alert-3', alertOnBudget: false }), null, 'turned off');
	});
});
