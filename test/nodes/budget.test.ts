/**
 * The spend budget's options on Resilient LLM, in process: the budget on each item's
 * `resilience`, a cheaper tier answering when the first does not fit, the workflow's time
 * zone deciding the day, and a time zone that is not one named as the field it came from.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import type { IDataObject } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { calendarKey } from '../../lib/engine/limits/budget';
import { ResilientLlm } from '../../nodes/ResilientLlm/ResilientLlm.node.ts';
import { KEYS, MODELS, useEmulator } from '../support/emulator';
import { fakeExecute } from '../support/fakeExecute';

const ctx = useEmulator();

const CHAIN = {
	tiers: [
		{ provider: 'anthropic', model: MODELS.anthropic, attempts: 1, timeoutSeconds: 5 },
		{ provider: 'openai', model: MODELS.openai, attempts: 1, timeoutSeconds: 5 },
	],
};

async function execute(options: IDataObject, timeZone?: string) {
	const urls = ctx.emulator.urls;
	const items = [{ text: 'Summarise ticket 1.' }, { text: 'Summarise ticket 2.' }];
	const run = fakeExecute({
		items,
		parameters: {
			prompt: (i: number) => items[i].text,
			chain: CHAIN,
			options: { initialBackoffMs: 5, ...options },
		},
		credentials: {
			resilientLlmAnthropicApi: { apiKey: KEYS.anthropic, baseUrl: urls.anthropic },
			resilientLlmOpenAiApi: { apiKey: KEYS.openai, baseUrl: urls.openai },
		},
		timeZone,
	});
	return new ResilientLlm().execute.call(run.context);
}

describe('Options › Budget', () => {
	it("puts the budget on each item's resilience, its day in the workflow's time zone", async () => {
		const [answered] = await execute({ budgetUsd: 1 }, 'Asia/Tokyo');
		assert.equal(answered.length, 2);
		const budget = (answered[1].json.resilience as IDataObject).budget as IDataObject;
		assert.equal(budget.name, 'workflow Ticket summaries');
		assert.equal(budget.limitUsd, 1);
		// Read after the run: a run across midnight in Tokyo would show the day before.
		assert.equal(budget.period, `day ${calendarKey('day', 'Asia/Tokyo', Date.now())}`);
		assert.ok((budget.spentUsd as number) > 0);
		assert.equal(budget.remainingUsd, Math.round((1 - (budget.spentUsd as number)) * 1e6) / 1e6);
	});

	it('skips a tier whose worst cost does not fit, for a cheaper one that does', async () => {
		// Haiku's worst is about $0.005 (1024 output tokens at $5 a million), gpt-4o-mini's $0.0006.
		const [answered] = await execute({ budgetUsd: 0.002, budgetName: 'tickets' });
		assert.deepEqual(
			answered.map((i) => (i.json.resilience as IDataObject).tier),
			[2, 2],
		);
		const resilience = answered[0].json.resilience as IDataObject;
		const skipped = (resilience.attempts as IDataObject[])[0];
		assert.equal(skipped.message, 'skipped: over budget');
		assert.match(String(skipped.detail), /^\$[\d.]+ of \$0\.002 spent today/);
		assert.equal((resilience.budget as IDataObject).name, 'tickets');
	});

	it('a time zone that is not one is an error naming the option', async () => {
		await assert.rejects(
			execute({ budgetUsd: 1, budgetTimeZone: 'Nowhere/Land' }),
			(error: unknown) =>
				error instanceof NodeOperationError &&
				error.message.startsWith('Options › Budget Time Zone: "Nowhere/Land" is not a time zone'),
		);
	});
});
