/**
 * Several Human Review waits in one execution, in a real n8n: two review nodes (agent, then
 * manager) and one review inside a loop of 3 items (Loop Over Items). All waits of an
 * execution share one signed link; each review link also carries a token of its own (from
 * the Human Review Link node before it). Each wait is decided separately, once, and only
 * through its own link: a link from an earlier wait neither opens nor decides the next one.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';

import { REVIEW_LINK_EXPRESSION } from '../../nodes/HumanReview/description';
import type { Execution, ExecutionItem } from '../harness/n8n';
import { KEYS, MODELS } from '../support/emulator';
import { postForm } from '../support/http';
import { useN8n } from '../support/n8nFixture';
import {
	connect,
	humanReviewNode,
	llmNode,
	reviewLinkNode,
	setNode,
	splitItemsNode,
	webhookNode,
} from '../support/workflows';
import type { WorkflowNode } from '../support/workflows';

const ctx = useN8n();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Connections = Parameters<typeof connect>[0];

/** Every provider down: each item leaves Resilient LLM on Needs Human, then goes to review. */
function needsHumanNode(): WorkflowNode {
	return llmNode(
		{
			prompt: '={{ $json.text }}',
			chain: {
				tiers: [
					{ provider: 'anthropic', model: MODELS.anthropic, attempts: 1, timeoutSeconds: 10 },
				],
			},
			options: {
				stateStore: 'embedded',
				idempotency: 'off',
				circuitBreaker: false,
				initialBackoffMs: 5,
			},
		},
		ctx.credentials,
		{ onError: 'continueErrorOutput' },
	);
}

function review(name: string, position: [number, number], linkNode: string): WorkflowNode {
	return {
		...humanReviewNode(
			{
				title: '=Ticket {{ $json.ticket }}',
				details: '={{ $json.text }}',
				reviewLink: `={{ $(${JSON.stringify(linkNode)}).first().json.reviewLink }}`,
				options: { stateStore: 'embedded' },
			},
			position,
		),
		name,
	};
}

/** The execution once it waits in `node` for the `runs`-th time. */
function waitingIn(id: string, node: string, runs = 1): Promise<Execution> {
	return ctx.n8n.executionWhen(
		id,
		(e) =>
			e.status === 'waiting' &&
			e.data?.resultData.lastNodeExecuted === node &&
			(e.data.resultData.runData[node]?.length ?? 0) === runs,
		`a wait in ${node} (${runs})`,
	);
}

async function onlyExecution(workflowId: string): Promise<string> {
	const deadline = Date.now() + 30_000;
	for (;;) {
		const [execution] = await ctx.n8n.executions(workflowId, 1);
		if (execution) return execution.id;
		assert.ok(Date.now() < deadline, 'the webhook started an execution');
		await sleep(200);
	}
}

/** Opens the review page as a reviewer does: the tickets it shows. */
async function openPage(link: string): Promise<{ titles: string[] }> {
	const response = await fetch(link, { signal: AbortSignal.timeout(30_000) });
	assert.equal(response.status, 200);
	const html = await response.text();
	const titles = [...html.matchAll(/<h1>Ticket ([^<]+)<\/h1>/g)].map((m) => m[1]);
	return { titles };
}

/** A link that is not this review's: 403, nothing of the review shown, nothing resumed. */
async function notThisReview(link: string, form: Record<string, string>, what: string) {
	const page = await fetch(link, { signal: AbortSignal.timeout(30_000) });
	assert.equal(page.status, 403, `${what}: the page`);
	assert.doesNotMatch(await page.text(), /<form/);
	const decision = await postForm(link, form);
	assert.equal(decision.status, 403, `${what}: the decision`);
}

function outputsOf(execution: Execution, node: string, runIndex = -1): ExecutionItem[][] {
	const runs = execution.data?.resultData.runData[node] ?? [];
	const main = runs.at(runIndex)?.data?.main ?? [];
	return [0, 1, 2].map((i) => main[i] ?? []);
}

/**
 * A decision sent right after the first one is refused: 409 from the node or from n8n, or, seen
 * when it lands while n8n is resuming the execution, a 500 from n8n. Either way it resumes
 * nothing, which the outputs checked at the end show; "Already decided" once the resume is done.
 */
function refused(status: number, what: string): void {
	assert.ok(status === 409 || status === 500, `${what}: ${status}`);
}

const ticketsOf = (items: ExecutionItem[]) => items.map((item) => String(item.json.ticket));

describe('Human Review: several waits in one execution', () => {
	it('agent, then manager: each review is decided once, and each item ends on its output', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS, rules: [{ fault: 'server_error' }] });
		const path = `two-reviews-${randomUUID()}`;
		const nodes = [
			webhookNode(path, 'onReceived'),
			splitItemsNode(),
			needsHumanNode(),
			reviewLinkNode('Agent Link', [550, 120]),
			setNode('Agent Message', { agentLink: `=${REVIEW_LINK_EXPRESSION}` }, [660, 120]),
			review('Agent Review', [880, 120], 'Agent Link'),
			reviewLinkNode('Manager Link', [990, 0]),
			setNode('Manager Message', { managerLink: `=${REVIEW_LINK_EXPRESSION}` }, [1100, 0]),
			review('Manager Review', [1320, 0], 'Manager Link'),
			setNode('Approved by Manager', { outcome: 'approved' }, [1540, 0]),
			setNode('Rejected by Manager', { outcome: 'rejected by manager' }, [1540, 200]),
			setNode('Rejected by Agent', { outcome: 'rejected by agent' }, [1100, 300]),
		];
		const connections: Connections = {};
		connect(connections, 'Webhook', 0, 'Split Items');
		connect(connections, 'Split Items', 0, 'Resilient LLM');
		connect(connections, 'Resilient LLM', 1, 'Agent Link');
		connect(connections, 'Agent Link', 0, 'Agent Message');
		connect(connections, 'Agent Message', 0, 'Agent Review');
		connect(connections, 'Agent Review', 1, 'Manager Link');
		connect(connections, 'Manager Link', 0, 'Manager Message');
		connect(connections, 'Agent Review', 2, 'Rejected by Agent');
		connect(connections, 'Manager Message', 0, 'Manager Review');
		connect(connections, 'Manager Review', 1, 'Approved by Manager');
		connect(connections, 'Manager Review', 2, 'Rejected by Manager');
		const workflowId = await ctx.n8n.createWorkflow({
			name: 'agent then manager',
			nodes,
			connections,
		});
		const tickets = ['A-0', 'A-1', 'A-2'];
		const response = await ctx.n8n.webhook(path, {
			items: tickets.map((ticket) => ({ ticket, text: `Refund [${ticket}]?` })),
		});
		assert.equal(response.status, 200);
		const id = await onlyExecution(workflowId);

		const atAgent = await waitingIn(id, 'Agent Review');
		const link = String(outputsOf(atAgent, 'Agent Message')[0][0].json.agentLink);
		const agentPage = await openPage(link);
		assert.deepEqual(agentPage.titles, tickets);
		const agentForm = {
			decision_0: 'approve',
			decision_1: 'approve',
			decision_2: 'reject',
			comment: 'A-2 is outside the window.',
			name: 'Agent',
		};
		const agent = await postForm(link, agentForm);
		assert.equal(agent.status, 200, await agent.text());
		refused((await postForm(link, agentForm)).status, 'the agent review is decided once');

		const atManager = await waitingIn(id, 'Manager Review');
		const managerLink = String(outputsOf(atManager, 'Manager Message')[0][0].json.managerLink);
		const signed = (url: string) => new URL(url).searchParams.get('signature');
		assert.equal(signed(managerLink), signed(link), 'both waits answer the same signed link');
		assert.notEqual(managerLink, link, 'but each review has a link of its own');
		// The agent's link, used again now that the manager's review waits there.
		await notThisReview(link, agentForm, "the agent's link on the manager's review");
		assert.equal((await ctx.n8n.execution(id)).status, 'waiting');

		const managerPage = await openPage(managerLink);
		assert.deepEqual(
			managerPage.titles,
			['A-0', 'A-1'],
			'the manager sees what the agent approved',
		);
		const managerForm = {
			decision_0: 'approve',
			decision_1: 'reject',
			comment: 'A-1 needs a manager call.',
			name: 'Manager',
		};
		const manager = await postForm(managerLink, managerForm);
		assert.equal(manager.status, 200, await manager.text());
		refused(
			(await postForm(managerLink, managerForm)).status,
			'the manager review is decided once',
		);

		const done = await ctx.n8n.executionWhen(id, (e) => e.finished, 'the end of the execution');
		assert.equal(done.status, 'success');
		const runs = done.data!.resultData.runData;
		assert.equal(runs['Agent Review'].length, 1);
		assert.equal(runs['Manager Review'].length, 1);
		assert.deepEqual(outputsOf(done, 'Agent Review').map(ticketsOf), [[], ['A-0', 'A-1'], ['A-2']]);
		assert.deepEqual(outputsOf(done, 'Manager Review').map(ticketsOf), [[], ['A-0'], ['A-1']]);
		// Each item ends on exactly one of the workflow's ends.
		const ends = ['Approved by Manager', 'Rejected by Manager', 'Rejected by Agent'].map((node) =>
			ticketsOf(outputsOf(done, node)[0]),
		);
		assert.deepEqual(ends, [['A-0'], ['A-1'], ['A-2']]);
		const decisions = outputsOf(done, 'Manager Review')[1][0].json.review as Record<
			string,
			unknown
		>;
		assert.equal(decisions.reviewer, 'Manager');
		assert.equal(
			(await postForm(managerLink, managerForm)).status,
			409,
			'a decision after the end resumes nothing',
		);
	});

	it('a review inside a loop of 3 items: each round is decided once, each item on its output', async () => {
		ctx.emulator.loadScenario({ apiKeys: KEYS, rules: [{ fault: 'server_error' }] });
		const path = `loop-review-${randomUUID()}`;
		const loop: WorkflowNode = {
			id: randomUUID(),
			name: 'Loop Over Items',
			type: 'n8n-nodes-base.splitInBatches',
			typeVersion: 3,
			position: [660, 0],
			parameters: { batchSize: 1, options: {} },
		};
		const nodes = [
			webhookNode(path, 'onReceived'),
			splitItemsNode(),
			needsHumanNode(),
			loop,
			reviewLinkNode('Review Link', [770, 120]),
			setNode('Review Message', { link: `=${REVIEW_LINK_EXPRESSION}` }, [880, 120]),
			review('Review', [1100, 120], 'Review Link'),
			setNode('Approved', { outcome: 'approved' }, [1320, 0]),
			setNode('Rejected', { outcome: 'rejected' }, [1320, 200]),
			setNode('Done', { finished: 'yes' }, [880, -120]),
		];
		const connections: Connections = {};
		connect(connections, 'Webhook', 0, 'Split Items');
		connect(connections, 'Split Items', 0, 'Resilient LLM');
		connect(connections, 'Resilient LLM', 1, 'Loop Over Items');
		connect(connections, 'Loop Over Items', 0, 'Done');
		connect(connections, 'Loop Over Items', 1, 'Review Link');
		connect(connections, 'Review Link', 0, 'Review Message');
		connect(connections, 'Review Message', 0, 'Review');
		connect(connections, 'Review', 1, 'Approved');
		connect(connections, 'Review', 2, 'Rejected');
		connect(connections, 'Approved', 0, 'Loop Over Items');
		connect(connections, 'Rejected', 0, 'Loop Over Items');
		const workflowId = await ctx.n8n.createWorkflow({
			name: 'review in a loop',
			nodes,
			connections,
		});
		const tickets = ['L-0', 'L-1', 'L-2'];
		const response = await ctx.n8n.webhook(path, {
			items: tickets.map((ticket) => ({ ticket, text: `Refund [${ticket}]?` })),
		});
		assert.equal(response.status, 200);
		const id = await onlyExecution(workflowId);

		const approve = (round: number) => round !== 1;
		let previous: { link: string; form: Record<string, string> } | undefined;
		let link = '';
		for (const [round, ticket] of tickets.entries()) {
			const waiting = await waitingIn(id, 'Review', round + 1);
			link = String(outputsOf(waiting, 'Review Message', round)[0][0].json.link);
			if (previous) {
				// Last round's link, used again while this round waits.
				assert.notEqual(previous.link, link, `round ${round} has a link of its own`);
				await notThisReview(previous.link, previous.form, `round ${round}: last round's link`);
				assert.equal((await ctx.n8n.execution(id)).status, 'waiting');
			}
			const page = await openPage(link);
			assert.deepEqual(page.titles, [ticket], `round ${round} reviews ${ticket}`);
			const form: Record<string, string> = approve(round)
				? { decision_0: 'approve', name: 'Ops' }
				: { decision_0: 'reject', comment: 'No.', name: 'Ops' };
			const decided = await postForm(link, form);
			assert.equal(decided.status, 200, `round ${round}: ${await decided.text()}`);
			refused((await postForm(link, form)).status, `round ${round} is decided once`);
			previous = { link, form };
		}

		const done = await ctx.n8n.executionWhen(id, (e) => e.finished, 'the end of the loop');
		assert.equal(done.status, 'success');
		const runs = done.data!.resultData.runData;
		assert.equal(runs.Review.length, 3, 'one wait per item');
		tickets.forEach((ticket, round) => {
			assert.deepEqual(
				outputsOf(done, 'Review', round).map(ticketsOf),
				approve(round) ? [[], [ticket], []] : [[], [], [ticket]],
				`round ${round}`,
			);
		});
		const finished = outputsOf(done, 'Done')[0].map((item) => [
			item.json.ticket,
			item.json.outcome,
		]);
		assert.deepEqual(finished, [
			['L-0', 'approved'],
			['L-1', 'rejected'],
			['L-2', 'approved'],
		]);
		assert.equal(
			(await postForm(link, previous!.form)).status,
			409,
			'nothing resumes after the end',
		);
	});
});
