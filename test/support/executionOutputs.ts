/**
 * What the fault-injection tests check after each run: every input item on exactly one of
 * Resilient LLM's outputs (Answered, Needs Human, or the error output), and every answer the
 * provider sent delivered.
 */
import assert from 'node:assert/strict';

import type { Execution, ExecutionItem } from '../harness/n8n';

export interface Outputs {
	answered: Array<Record<string, unknown>>;
	needsHuman: Array<Record<string, unknown>>;
	/** Error items carry the message, not the input's fields: `itemIndex` is the input item n8n pairs each with. */
	errors: Array<Record<string, unknown> & { itemIndex: number }>;
}

/** The three outputs of the node named `node` in one execution. */
export function outputsOf(execution: Execution, node = 'Resilient LLM'): Outputs {
	const run = execution.data?.resultData.runData[node]?.[0];
	assert.ok(run, `${node} ran in execution ${execution.id}`);
	assert.equal(run.error, undefined, `${node} itself did not fail: ${run.error?.message}`);
	const main = run.data?.main ?? [];
	const json = (items: ExecutionItem[] | null | undefined) => (items ?? []).map((i) => i.json);
	const errors = (main[2] ?? []).map((item) => ({
		...item.json,
		itemIndex: Number((item.pairedItem as { item?: number } | undefined)?.item),
	}));
	return { answered: json(main[0]), needsHuman: json(main[1]), errors };
}

/** Where each input item (`ids`: the input's `id` fields, in input order) ended up. */
export function placesOf(outputs: Outputs, ids: number[]): Map<number, string[]> {
	const seen = new Map<number, string[]>(ids.map((id) => [id, []]));
	const note = (id: number, where: string) => seen.set(id, [...(seen.get(id) ?? []), where]);
	for (const item of outputs.answered) note(Number(item.id), 'Answered');
	for (const item of outputs.needsHuman) note(Number(item.id), 'Needs Human');
	for (const item of outputs.errors) note(ids[item.itemIndex], 'error');
	return seen;
}

/** Items not on exactly one output, and items on an output that were not in the input. */
export function itemsLost(outputs: Outputs, ids: number[]): number {
	let lost = 0;
	for (const [id, places] of placesOf(outputs, ids))
		if (places.length !== 1 || !ids.includes(id)) lost++;
	return lost;
}

/**
 * Every input item (`ids`: the input's `id` fields, in input order) is on exactly one output,
 * and nothing else is.
 */
export function assertEachOnExactlyOneOutput(outputs: Outputs, ids: number[]): void {
	const seen = placesOf(outputs, ids);
	const wrong = [...seen.keys()].filter((id) => seen.get(id)?.length !== 1 || !ids.includes(id));
	assert.deepEqual(
		wrong.map((id) => `${id}: ${(seen.get(id) ?? []).join(', ') || 'no output'}`),
		[],
		'every item on exactly one output',
	);
	assert.equal(
		outputs.answered.length + outputs.needsHuman.length + outputs.errors.length,
		ids.length,
		'no item twice, and no stray item',
	);
}
