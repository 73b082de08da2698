/**
 * The alert counters in a real n8n: counted in memory, written to the embedded store by a
 * timer with no reader in n8n asking, and written when n8n is stopped with SIGTERM before
 * their time came. Read straight from the store's file, as another process would.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, it } from 'node:test';

import { LLM_NODE_TYPE } from '../../nodes/shared/stateStores';
import { N8n } from '../harness/n8n';
import { useN8n } from '../support/n8nFixture';
import { llmWorkflow, oneAttemptChain } from '../support/workflows';

const ctx = useN8n();

/** Tasks of the workflow in the store file, as written so far. */
function tasksWritten(userFolder: string, workflowId: string): number {
	const file = join(userFolder, '.n8n', 'storage', LLM_NODE_TYPE, 'state.sqlite');
	const db = new DatabaseSync(file, { readOnly: true });
	try {
		const row = db
			.prepare('SELECT COALESCE(SUM(tasks), 0) AS tasks FROM counters WHERE workflow = ?')
			.get(workflowId) as { tasks: number };
		return row.tasks;
	} finally {
		db.close();
	}
}

async function send(n8n: N8n, path: string, count: number): Promise<void> {
	const items = Array.from({ length: count }, (_, i) => ({ text: `counted ${i}` }));
	const response = await n8n.webhook(path, { items });
	assert.equal(response.status, 200);
}

describe('alert counters in n8n', () => {
	const path = 'counted-tasks';
	let workflowId = '';

	it('reach the store within about a second of the tasks, with nothing reading them in n8n', async () => {
		workflowId = await ctx.n8n.createWorkflow(
			llmWorkflow(
				'counted tasks',
				path,
				{
					prompt: '={{ $json.text }}',
					chain: oneAttemptChain(['openai']),
					options: { recordMetrics: true, circuitBreaker: false, idempotency: 'off' },
				},
				ctx.credentials,
			),
		);
		await send(ctx.n8n, path, 12);
		// Bounded polling: the write is due a second after the first task.
		const giveUpAt = performance.now() + 30_000;
		while (tasksWritten(ctx.n8n.userFolder, workflowId) < 12 && performance.now() < giveUpAt)
			await new Promise((resolve) => setTimeout(resolve, 50));
		assert.equal(tasksWritten(ctx.n8n.userFolder, workflowId), 12);
	});

	it('not yet written when n8n gets SIGTERM: written as it stops', async () => {
		await ctx.n8n.stop();
		// The same n8n with an hour between writes: only the stop can write these tasks.
		const n8n = await N8n.start({
			userFolder: ctx.n8n.userFolder,
			env: { RESILIENT_LLM_COUNTER_FLUSH_MS: '3600000' },
		});
		try {
			await send(n8n, path, 7);
			assert.equal(tasksWritten(n8n.userFolder, workflowId), 12, 'counted in memory only');
		} finally {
			await n8n.stop('SIGTERM');
		}
		assert.equal(tasksWritten(ctx.n8n.userFolder, workflowId), 12 + 7);
	});
});
