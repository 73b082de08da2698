/**
 * Who may open and decide a review: only the holder of that wait's own link. Also what the
 * node refuses to wait with (a link without its token, a password that reads as nothing),
 * and the files of the items, which leave with them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import { HumanReview } from '../../nodes/HumanReview/HumanReview.node.ts';
import { HumanReviewLink } from '../../nodes/HumanReviewLink/HumanReviewLink.node.ts';
import { fakeExecution, fakeWebhook, linkOf, tokenOf } from '../support/fakeWebhook';
import type { Posted, ReviewPost } from '../support/fakeWebhook';

before(() => {
	process.env.N8N_USER_FOLDER = mkdtempSync(join(tmpdir(), 'review-link-user-folder-'));
});
after(async () => {
	const { closeStateStores } = await import('../../nodes/shared/stateStores');
	await closeStateStores();
});

let executions = 0;
const executionId = () => `link-${process.pid}-${++executions}`;

async function request(post: ReviewPost): Promise<Posted> {
	const { context, result } = fakeWebhook(post);
	const answer = await new HumanReview().webhook.call(context);
	return { ...result, workflowData: answer.workflowData };
}

const lengths = (posted: Posted) =>
	(posted.workflowData as unknown[][] | undefined)?.map((output) => output.length);

describe('Human Review: each wait opens and decides only through its own link', () => {
	it('without the review token, the page shows nothing of the review and a decision gets 403', async () => {
		const wait = { executionId: executionId(), node: 'Review', runIndex: 0 };
		const page = await request({ ...wait, method: 'GET', token: null });
		assert.equal(page.status, 403);
		assert.doesNotMatch(
			page.body,
			/Refund|High stakes|Approve the refund/,
			'nothing of the review',
		);
		assert.doesNotMatch(page.body, /<form/);
		const decision = await request({ ...wait, token: null });
		assert.equal(decision.status, 403);
		assert.equal(decision.workflowData, undefined, 'resumes nothing');
		const guessed = await request({ ...wait, token: 'A'.repeat(32) });
		assert.equal(guessed.status, 403);
		assert.equal(guessed.workflowData, undefined);
		// The token in the form instead of the query string is refused just the same.
		const inBody = await request({
			...wait,
			token: null,
			body: { decision_0: 'approve', review: 'B'.repeat(32) },
		});
		assert.equal(inBody.status, 403);

		const own = await request({ ...wait, method: 'GET' });
		assert.equal(own.status, 200);
		assert.match(own.body, /High stakes/);
		assert.deepEqual(lengths(await request(wait)), [0, 1, 0], 'its own link decides');
	});

	it("agent, then manager: the agent's link neither opens nor decides the manager's review", async () => {
		const id = executionId();
		const agent = { executionId: id, node: 'Agent review', runIndex: 0 };
		const manager = { executionId: id, node: 'Manager review', runIndex: 0 };
		assert.deepEqual(lengths(await request(agent)), [0, 1, 0]);
		// The agent's link, used again now that the manager's review waits on the same execution.
		const peek = await request({ ...manager, method: 'GET', token: tokenOf(agent) });
		assert.equal(peek.status, 403);
		const stale = await request({ ...manager, token: tokenOf(agent) });
		assert.equal(stale.status, 403);
		assert.equal(stale.workflowData, undefined, "the agent did not decide the manager's review");
		const decided = await request({
			...manager,
			body: { decision_0: 'reject', comment: 'No.' },
		});
		assert.deepEqual(lengths(decided), [0, 0, 1], 'the manager still decides, with their link');
	});

	it("a review inside a loop: last round's link does not decide this round", async () => {
		const id = executionId();
		const round = (runIndex: number) => ({ executionId: id, node: 'Review', runIndex });
		assert.equal((await request(round(0))).status, 200);
		const late = await request({ ...round(1), token: tokenOf(round(0)) });
		assert.equal(late.status, 403);
		assert.equal(late.workflowData, undefined);
		assert.equal((await request(round(1))).status, 200);
	});

	it('the form posts back to the address the page was opened with, token included', async () => {
		const page = await request({
			executionId: executionId(),
			node: 'Review',
			runIndex: 0,
			method: 'GET',
		});
		assert.match(page.body, /<form method="post">/, 'no action: the page posts to its own URL');
		assert.doesNotMatch(page.body, /action="/);
		assert.doesNotMatch(page.body, /name="wait"/, 'no guessable wait id stands in for the token');
	});
});

describe('Human Review: what it refuses to wait with', () => {
	const run = (parameters: IDataObject, expressions = {}, count = 2) => {
		const items: INodeExecutionData[] = Array.from({ length: count }, (_, i) => ({
			json: { ticket: `T-${i + 1}` },
		}));
		return fakeExecution({ items, parameters, expressions });
	};
	const waitOrError = async (context: IExecuteFunctions) => {
		try {
			await new HumanReview().execute.call(context);
			return undefined;
		} catch (error) {
			return error as Error & { description?: string; context?: { itemIndex?: number } };
		}
	};
	const link = linkOf({ executionId: '7', node: 'Review', runIndex: 0 });

	it('a Review Link without a review token (the bare signed link) fails the node, naming item and field', async () => {
		const { context, waited } = run(
			{ reviewLink: '={{ $execution.resumeUrl }}' },
			{
				'{{ $execution.resumeUrl }}': [
					'http://127.0.0.1:5678/webhook-waiting/7?signature=abc',
					'http://127.0.0.1:5678/webhook-waiting/7?signature=abc',
				],
			},
		);
		const error = await waitOrError(context);
		assert.ok(error, 'the node fails');
		assert.match(error.message, /^Review Link of item 1 /);
		assert.match(error.description ?? '', /Human Review Link node/);
		assert.doesNotMatch(
			`${error.message} ${error.description}`,
			/signature=abc/,
			'no secret shown',
		);
		assert.equal(waited(), undefined, 'and does not wait');
	});

	it('items with different review links fail the node, naming the item', async () => {
		const other = linkOf({ executionId: '7', node: 'Review', runIndex: 1 });
		const { context } = run(
			{ reviewLink: '={{ $json.link }}' },
			{ '{{ $json.link }}': [link, other] },
		);
		const error = await waitOrError(context);
		assert.match(error?.message ?? '', /^Review Link of item 2 is not the link of item 1/);
	});

	it('a Reviewer Password whose expression gives nothing fails the node, naming item and field', async () => {
		const { context, waited } = run(
			{ reviewLink: link, options: { password: '={{ $env.REVIEW_PASSWORD }}' } },
			{ '{{ $env.REVIEW_PASSWORD }}': ['open sesame', ''] },
		);
		const error = await waitOrError(context);
		assert.ok(error, 'the node fails instead of waiting without a password');
		assert.match(error.message, /^Reviewer Password of item 2 is empty/);
		assert.doesNotMatch(`${error.message} ${error.description}`, /open sesame/);
		assert.equal(waited(), undefined);
	});

	it('waits with a review link and a readable password', async () => {
		const { context, waited } = run(
			{ reviewLink: link, options: { password: '={{ $env.REVIEW_PASSWORD }}' } },
			{ '{{ $env.REVIEW_PASSWORD }}': ['open sesame', 'open sesame'] },
		);
		const outputs = await new HumanReview().execute.call(context);
		assert.ok(waited(), 'it waits');
		assert.deepEqual(
			outputs.map((o) => o.length),
			[2, 0, 0],
		);
	});

	it('a password that reads as nothing while waiting accepts no decision', async () => {
		const wait = { executionId: executionId(), node: 'Review', runIndex: 0 };
		const expressions = { '{{ $env.REVIEW_PASSWORD }}': '' };
		const options = { password: '={{ $env.REVIEW_PASSWORD }}' };
		const decided = await request({ ...wait, options, expressions });
		assert.notEqual(decided.status, 200);
		assert.equal(decided.workflowData, undefined, 'no decision without the password check');
		const page = await request({ ...wait, options, expressions, method: 'GET' });
		assert.doesNotMatch(page.body, /<form/);
	});
});

describe('Human Review keeps the files of its items', () => {
	it("each item's binary data leaves with it on Approved and on Rejected", async () => {
		const invoice = {
			data: Buffer.from('%PDF-1.4 invoice').toString('base64'),
			mimeType: 'application/pdf',
			fileName: 'invoice.pdf',
		};
		const photo = { data: 'ZmlsZQ==', mimeType: 'image/png', fileName: 'damage.png' };
		const decided = await request({
			executionId: executionId(),
			node: 'Review',
			runIndex: 0,
			items: [{ ticket: 'T-1' }, { ticket: 'T-2' }, { ticket: 'T-3' }],
			binaries: [{ invoice }, { photo }, undefined],
			body: { decision_0: 'approve', decision_1: 'reject', decision_2: 'approve', comment: 'No.' },
		});
		const [, approved, rejected] = decided.workflowData as INodeExecutionData[][];
		assert.deepEqual(
			approved.map((item) => [item.json.ticket, item.binary]),
			[
				['T-1', { invoice }],
				['T-3', undefined],
			],
		);
		assert.deepEqual(
			rejected.map((item) => [item.json.ticket, item.binary]),
			[['T-2', { photo }]],
		);
	});
});

describe('Human Review Link', () => {
	const make = async (resumeUrl: string, count: number) => {
		const items = Array.from({ length: count }, (_, i) => ({
			json: { ticket: `T-${i}` },
			binary: { file: { data: 'eA==', mimeType: 'text/plain' } },
		}));
		const context = {
			getNode: () => ({ name: 'Review Link' }),
			getInputData: () => items,
			evaluateExpression: (expression: string) => {
				assert.equal(expression, '{{ $execution.resumeUrl }}');
				return resumeUrl;
			},
		} as unknown as IExecuteFunctions;
		const [out] = await new HumanReviewLink().execute.call(context);
		return out;
	};

	it('adds one link per run to every item: the signed link with a random token of its own', async () => {
		const resumeUrl = 'http://127.0.0.1:5678/webhook-waiting/12?signature=0f3a';
		const first = await make(resumeUrl, 3);
		const links = first.map((item) => String(item.json.reviewLink));
		assert.equal(new Set(links).size, 1, 'the items of one run share their review');
		const url = new URL(links[0]);
		assert.equal(url.searchParams.get('signature'), '0f3a', "n8n's signature kept");
		assert.match(url.searchParams.get('review') ?? '', /^[A-Za-z0-9_-]{32}$/);
		assert.deepEqual(first[1].binary, { file: { data: 'eA==', mimeType: 'text/plain' } });
		assert.equal(first[2].json.ticket, 'T-2');
		const second = await make(resumeUrl, 1);
		assert.notEqual(second[0].json.reviewLink, links[0], 'the next review gets another token');
	});
});
