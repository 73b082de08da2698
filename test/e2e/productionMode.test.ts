/**
 * n8n as users run it: the harness (and so the demo) starts n8n with NODE_ENV=production. A
 * review link opened after its execution finished is answered by n8n itself, before Human
 * Review is reached; in development mode that answer carries a stack trace naming the
 * server's files.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { REVIEW_LINK_EXPRESSION } from '../../nodes/HumanReview/description';
import { N8n } from '../harness/n8n';
import { ROOT } from '../harness/pack';
import { runtimeDir } from '../harness/runtime';
import { postForm } from '../support/http';
import {
	connect,
	humanReviewNode,
	reviewLinkNode,
	setNode,
	webhookNode,
} from '../support/workflows';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let n8n: N8n;
before(async () => {
	n8n = await N8n.start();
});
after(async () => {
	await n8n?.dispose();
});

/** Polls an execution until its status is one of `statuses`; returns it. */
async function executionIn(
	workflowId: string,
	statuses: string[],
	timeoutMs = 30_000,
): Promise<{ id: string; status: string }> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		const [latest] = await n8n.executions(workflowId, 1);
		if (latest && statuses.includes(latest.status)) return latest;
		await sleep(200);
	}
	throw new Error(`no execution of workflow ${workflowId} reached ${statuses.join('/')}`);
}

describe('n8n in production mode', () => {
	it('a review link opened after its execution finished gets a 409 with no stack trace or local path', async () => {
		const path = 'production-review';
		const nodes = [
			webhookNode(path, 'onReceived'),
			reviewLinkNode('Review Link', [110, 0]),
			setNode('Compose Message', { reviewLink: `=${REVIEW_LINK_EXPRESSION}` }, [220, 0]),
			humanReviewNode(
				{ title: '=Ticket {{ $json.body.ticket }}', details: 'Refund 40 EUR?' },
				[440, 0],
			),
		];
		const connections: Parameters<typeof connect>[0] = {};
		connect(connections, 'Webhook', 0, 'Review Link');
		connect(connections, 'Review Link', 0, 'Compose Message');
		connect(connections, 'Compose Message', 0, 'Human Review');
		const workflowId = await n8n.createWorkflow({ name: 'Production mode', nodes, connections });

		assert.equal((await n8n.webhook(path, { ticket: 'T-PROD' })).status, 200);
		const waiting = await executionIn(workflowId, ['waiting']);
		const run = await n8n.execution(waiting.id);
		const link = String(
			run.data?.resultData.runData['Compose Message'][0].data?.main[0]?.[0].json.reviewLink,
		);
		assert.match(link, /\/webhook-waiting\/\d+\?signature=[0-9a-f]+&review=/);
		assert.equal((await postForm(link, { decision_0: 'approve' })).status, 200);
		await executionIn(workflowId, ['success']);

		// The reviewer opens the link again (GET), or the page is submitted once more (POST).
		for (const response of [
			await fetch(link, { signal: AbortSignal.timeout(30_000) }),
			await postForm(link, { decision_0: 'reject', comment: 'changed my mind' }),
		]) {
			const body = await response.text();
			assert.equal(response.status, 409, body);
			assert.match(body, /has finished already/);
			for (const leak of ['stack', 'node_modules', '/work/', ROOT, runtimeDir()])
				assert.ok(!body.includes(leak), `the answer names ${leak}: ${body}`);
		}
	});
});
