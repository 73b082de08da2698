/**
 * Human Review in a real n8n, decided in a real browser (Debian's Chromium through
 * playwright-core): webhook -> Resilient LLM (every provider down) -> a message with the
 * review link (made by the Human Review Link node) -> Human Review -> Timed Out / Approved /
 * Rejected.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import type { Browser, Page } from 'playwright-core';

import { REVIEW_LINK_EXPRESSION } from '../../nodes/HumanReview/description';
import type { Execution } from '../harness/n8n';
import { KEYS, MODELS } from '../support/emulator';
import { launchChromium } from '../support/browser';
import { saveScreenshot } from '../support/editor';
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

const ctx = useN8n();
let browser: Browser;

before(async () => {
	browser = await launchChromium();
});
after(async () => {
	await browser?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
type Connections = Parameters<typeof connect>[0];

let count = 0;
/** The workflow under test; returns its id and webhook path. */
async function reviewWorkflow(
	review: Record<string, unknown> = {},
): Promise<{ id: string; path: string }> {
	const path = `review-${++count}`;
	const nodes = [
		webhookNode(path, 'onReceived'),
		splitItemsNode(),
		llmNode(
			{
				prompt: '={{ $json.text }}',
				chain: {
					tiers: [
						{ provider: 'anthropic', model: MODELS.anthropic, attempts: 1, timeoutSeconds: 10 },
					],
				},
				options: { initialBackoffMs: 5 },
			},
			ctx.credentials,
		),
		reviewLinkNode(),
		// Stands in for the Slack or email node: the message carries the link, built with the
		// exact expression the node tells operators to paste.
		setNode(
			'Compose Message',
			{
				reviewLink: `=${REVIEW_LINK_EXPRESSION}`,
				message: `=Please review ticket {{ $json.ticket }}: ${REVIEW_LINK_EXPRESSION}`,
			},
			[660, 120],
		),
		humanReviewNode({
			title: '=Ticket {{ $json.ticket }}',
			details: '={{ $json.text }}',
			draftAnswer: '={{ $json.draft ?? "" }}',
			...review,
		}),
		setNode('After Approval', { branch: 'approved' }, [1100, 0]),
	];
	const connections: Connections = {};
	connect(connections, 'Webhook', 0, 'Split Items');
	connect(connections, 'Split Items', 0, 'Resilient LLM');
	connect(connections, 'Resilient LLM', 1, 'Review Link');
	connect(connections, 'Review Link', 0, 'Compose Message');
	connect(connections, 'Compose Message', 0, 'Human Review');
	connect(connections, 'Human Review', 1, 'After Approval');
	const id = await ctx.n8n.createWorkflow({
		name: `Human Review e2e ${count}`,
		nodes,
		connections,
	});
	return { id, path };
}

/** Starts one execution per item and waits until each is waiting; returns the review links. */
async function startReviews(
	workflowId: string,
	path: string,
	tickets: Array<Record<string, unknown>>,
): Promise<Array<{ executionId: string; link: string }>> {
	for (const ticket of tickets) {
		const response = await ctx.n8n.webhook(path, { items: [ticket] });
		assert.equal(response.status, 200);
	}
	const deadline = Date.now() + 60_000;
	while (Date.now() < deadline) {
		const executions = await ctx.n8n.executions(workflowId);
		const waiting = executions.filter((e) => e.status === 'waiting');
		if (waiting.length === tickets.length) {
			const links = [];
			for (const execution of waiting) {
				const full = await ctx.n8n.execution(execution.id);
				const json =
					full.data?.resultData.runData['Compose Message'][0].data?.main[0]?.[0].json ?? {};
				assert.match(
					String(json.message),
					/^Please review ticket .*: http:\/\/127\.0\.0\.1:\d+\/webhook-waiting\/\d+\?signature=[0-9a-f]+&review=[\w-]{32}$/,
				);
				links.push({ executionId: execution.id, link: String(json.reviewLink) });
			}
			return links;
		}
		await sleep(200);
	}
	const executions = await ctx.n8n.executions(workflowId);
	const details = await Promise.all(
		executions.map(
			async (e) =>
				`${e.id}: ${e.status} ${JSON.stringify((await ctx.n8n.execution(e.id)).data?.resultData.error ?? '')}`,
		),
	);
	throw new Error(`executions did not reach the waiting state: ${details.join('; ')}`);
}

/** The finished execution and what left each Human Review output. */
async function finished(
	executionId: string,
	timeoutMs = 30_000,
): Promise<{ execution: Execution; outputs: Array<Array<{ json: Record<string, unknown> }>> }> {
	const deadline = Date.now() + timeoutMs;
	while (Date.now() < deadline) {
		const execution = await ctx.n8n.execution(executionId);
		if (
			execution.status !== 'waiting' &&
			execution.status !== 'running' &&
			execution.status !== 'new'
		) {
			const runs = execution.data?.resultData.runData['Human Review'] ?? [];
			const last = runs[runs.length - 1];
			// A timed-out wait stores only output 0 (n8n does not call the node): pad to three.
			const main = last?.data?.main ?? [];
			return { execution, outputs: [0, 1, 2].map((i) => main[i] ?? []) };
		}
		await sleep(250);
	}
	throw new Error(`execution ${executionId} did not finish`);
}

/** Asked after n8n has answered the request: a resume it started would show as running. */
async function stillWaiting(executionId: string): Promise<boolean> {
	return (await ctx.n8n.execution(executionId)).status === 'waiting';
}

async function open(link: string): Promise<Page> {
	const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
	const response = await page.goto(link);
	assert.equal(response?.status(), 200);
	return page;
}

describe('Human Review', () => {
	// n8n's wait tracker checks every 60 s, so the time-limit case starts first and is checked last.
	let timeLimited: Promise<Array<{ executionId: string; link: string }>>;
	before(async () => {
		// Every provider down: each ticket leaves Resilient LLM on Needs Human.
		ctx.emulator.loadScenario({ apiKeys: KEYS, rules: [{ fault: 'server_error' }] });
		const workflow = await reviewWorkflow({
			limitWaitTime: true,
			timeLimit: 3,
			timeLimitUnit: 'seconds',
		});
		timeLimited = startReviews(workflow.id, workflow.path, [
			{ text: 'Refund 40 EUR for a late parcel.', ticket: 'T-TIME' },
		]);
		await timeLimited;
	});

	it('approving with an edit in the browser finishes with the edited answer on Approved', async () => {
		const workflow = await reviewWorkflow();
		const [{ executionId, link }] = await startReviews(workflow.id, workflow.path, [
			{ text: 'Customer asks for a refund of 40 EUR.', ticket: 'T-1', draft: 'Refund approved.' },
		]);
		const page = await open(link);
		assert.equal(await page.locator('h1').first().textContent(), 'Ticket T-1');
		assert.match(
			(await page.locator('.reason').textContent()) ?? '',
			/Every model in the chain failed/,
		);
		assert.equal(await page.locator('#answer_0').inputValue(), 'Refund approved.');
		await page.fill('#answer_0', 'Refund of 40 EUR approved; sorry for the delay.');
		await page.fill('#name', 'Ana Reviewer');
		await page.click('button.approve');
		await page.waitForSelector('text=Decision recorded: Approved');
		await page.close();
		const { execution, outputs } = await finished(executionId);
		assert.equal(execution.status, 'success');
		assert.deepEqual(
			outputs.map((o) => o.length),
			[0, 1, 0],
		);
		const item = outputs[1][0].json;
		assert.equal(item.answer, 'Refund of 40 EUR approved; sorry for the delay.');
		const review = item.review as Record<string, unknown>;
		assert.equal(review.decision, 'approved');
		assert.equal(review.edited, true);
		assert.equal(review.reviewer, 'Ana Reviewer');
		assert.ok(Date.parse(String(review.decidedAt)) > Date.now() - 60_000);
		assert.equal(item.ticket, 'T-1', 'the item keeps its fields');
		assert.ok(execution.data?.resultData.runData['After Approval'], 'the Approved branch ran');
	});

	it('rejecting with a comment in the browser finishes on Rejected', async () => {
		const workflow = await reviewWorkflow();
		const [{ executionId, link }] = await startReviews(workflow.id, workflow.path, [
			{ text: 'Refund 900 EUR?', ticket: 'T-2' },
		]);
		const page = await open(link);
		await page.fill('#comment', 'Outside the 30-day window.');
		await page.click('button.reject');
		await page.waitForSelector('text=Decision recorded: Rejected');
		await page.close();
		const { outputs, execution } = await finished(executionId);
		assert.deepEqual(
			outputs.map((o) => o.length),
			[0, 0, 1],
		);
		const review = outputs[2][0].json.review as Record<string, unknown>;
		assert.equal(review.decision, 'rejected');
		assert.equal(review.comment, 'Outside the 30-day window.');
		assert.equal(
			execution.data?.resultData.runData['After Approval'],
			undefined,
			'the Approved branch did not run',
		);
	});

	it('a wrong or missing signature gets 401, a missing or wrong review token 403, and neither resumes', async () => {
		const workflow = await reviewWorkflow();
		const [{ executionId, link }] = await startReviews(workflow.id, workflow.path, [
			{ text: 'Refund?', ticket: 'T-3' },
		]);
		const wrong = link.replace(/signature=[0-9a-f]+/, `signature=${'0'.repeat(64)}`);
		const missing = link.replace(/\?signature=.*$/, '');
		for (const url of [wrong, missing]) {
			assert.equal((await fetch(url)).status, 401);
			assert.equal((await postForm(url, { decision_0: 'approve' })).status, 401);
		}
		// The execution's signed link without the review's own token: n8n lets it through, the
		// node does not, and shows nothing of the review.
		const signedOnly = link.replace(/&review=[^&]*/, '');
		assert.notEqual(signedOnly, link);
		const peek = await fetch(signedOnly);
		assert.equal(peek.status, 403);
		assert.doesNotMatch(await peek.text(), /T-3|<form/);
		assert.equal((await postForm(signedOnly, { decision_0: 'approve' })).status, 403);
		const forged = link.replace(/review=[^&]*/, `review=${'A'.repeat(32)}`);
		assert.equal((await postForm(forged, { decision_0: 'approve' })).status, 403);
		assert.ok(await stillWaiting(executionId));
		assert.equal((await postForm(link, { decision_0: 'approve' })).status, 200);
		const { outputs } = await finished(executionId);
		assert.deepEqual(
			outputs.map((o) => o.length),
			[0, 1, 0],
		);
	});

	/**
	 * Who answers a second decision depends on when it arrives: the node itself ("Already
	 * decided") while the execution still waits, n8n while the resumed execution runs ("is
	 * running already") or after it finished. Each is a 409, and none resumes a second time.
	 */
	it('a second decision never resumes twice, sent after the first resume or during it', async () => {
		const workflow = await reviewWorkflow();
		const [after, during] = await startReviews(workflow.id, workflow.path, [
			{ text: 'Refund?', ticket: 'T-3a' },
			{ text: 'Refund?', ticket: 'T-3b' },
		]);

		// After: the first decision's execution has finished before the second one is sent.
		assert.equal((await postForm(after.link, { decision_0: 'approve' })).status, 200);
		await finished(after.executionId);
		const late = await postForm(after.link, { decision_0: 'reject', comment: 'changed my mind' });
		assert.equal(late.status, 409, await late.text());

		// During: both decisions are sent at once.
		const [approve, reject] = await Promise.all([
			postForm(during.link, { decision_0: 'approve' }),
			postForm(during.link, { decision_0: 'reject', comment: 'No.' }),
		]);
		assert.deepEqual(
			[approve.status, reject.status].sort(),
			[200, 409],
			`${approve.status} ${await approve.text()} / ${reject.status} ${await reject.text()}`,
		);
		const winner = approve.status === 200 ? 'approve' : 'reject';

		for (const [review, decided] of [
			[after, 'approve'],
			[during, winner],
		] as const) {
			const { outputs } = await finished(review.executionId);
			assert.deepEqual(
				outputs.map((o) => o.length),
				decided === 'approve' ? [0, 1, 0] : [0, 0, 1],
				`execution ${review.executionId}`,
			);
			const execution = await ctx.n8n.execution(review.executionId);
			assert.equal(
				execution.data?.resultData.runData['After Approval']?.length ?? 0,
				decided === 'approve' ? 1 : 0,
				'the branch after the review ran once at most',
			);
		}
	});

	it('a second submission from the page says it was already decided, after the first or at the same time', async () => {
		const workflow = await reviewWorkflow();
		const [sequential, simultaneous] = await startReviews(workflow.id, workflow.path, [
			{ text: 'Refund?', ticket: 'T-4a' },
			{ text: 'Refund?', ticket: 'T-4b' },
		]);
		const first = await open(sequential.link);
		const second = await open(sequential.link);
		await first.click('button.approve');
		await first.waitForSelector('text=Decision recorded');
		await second.fill('#comment', 'No.');
		await second.click('button.reject');
		await second.waitForSelector('text=Already decided');
		await first.close();
		await second.close();

		const one = await open(simultaneous.link);
		const other = await open(simultaneous.link);
		await other.fill('#comment', 'No.');
		await Promise.all([one.click('button.approve'), other.click('button.reject')]);
		const seen = await Promise.all(
			[one, other].map(async (page) => {
				await page.waitForSelector('text=/Decision recorded|Already decided/');
				return (await page.textContent('main'))?.includes('Decision recorded')
					? 'recorded'
					: 'already decided';
			}),
		);
		assert.deepEqual(seen.sort(), ['already decided', 'recorded']);
		await one.close();
		await other.close();
	});

	it('bad input gets a page saying what is wrong, and the execution keeps waiting', async () => {
		const workflow = await reviewWorkflow({
			options: { requiredFields: ['commentOnReject', 'name'], password: 'open sesame' },
		});
		const [{ executionId, link }] = await startReviews(workflow.id, workflow.path, [
			{ text: 'Refund?', ticket: 'T-5' },
		]);
		const cases: Array<[Record<string, string>, number, RegExp]> = [
			[
				{ decision_0: 'maybe', name: 'Ana', password: 'open sesame' },
				400,
				/Unknown decision &quot;maybe&quot;/,
			],
			[
				{ decision_0: 'reject', name: 'Ana', password: 'open sesame' },
				400,
				/Enter a comment saying why you reject/,
			],
			[{ decision_0: 'approve', password: 'open sesame' }, 400, /Enter your name/],
			[
				{ decision_0: 'approve', name: 'Ana', password: 'guess' },
				403,
				/The review password is wrong/,
			],
			[
				{
					decision_0: 'approve',
					name: 'Ana',
					password: 'open sesame',
					comment: 'x'.repeat(70_000),
				},
				413,
				/Submission too large/,
			],
		];
		for (const [fields, status, message] of cases) {
			const response = await postForm(link, fields);
			assert.equal(response.status, status, JSON.stringify(Object.keys(fields)));
			assert.match(await response.text(), message);
		}
		assert.ok(await stillWaiting(executionId), 'no bad submission resumed the execution');
		assert.equal(
			(await postForm(link, { decision_0: 'approve', name: 'Ana', password: 'open sesame' }))
				.status,
			200,
		);
		assert.deepEqual(
			(await finished(executionId)).outputs.map((o) => o.length),
			[0, 1, 0],
		);
	});

	it('untrusted prompt and answer text renders as text: no dialog, no injected element', async () => {
		const payloads =
			'<script>alert("s")</script> <img src=x onerror="alert(\'i\')"> "><svg onload="alert(\'v\')">';
		const workflow = await reviewWorkflow();
		const [{ link }] = await startReviews(workflow.id, workflow.path, [
			{ text: `Refund? ${payloads}`, ticket: `T-6 ${payloads}`, draft: `Answer ${payloads}` },
		]);
		const page = await browser.newPage();
		const dialogs: string[] = [];
		page.on('dialog', (dialog) => {
			dialogs.push(dialog.message());
			void dialog.dismiss();
		});
		// Every script, handler and image error has had its turn once the page has loaded.
		await page.goto(link, { waitUntil: 'load' });
		await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
		assert.deepEqual(dialogs, []);
		assert.equal(await page.locator('img').count(), 0);
		assert.equal(await page.locator('svg').count(), 0);
		assert.equal(await page.locator('script').count(), 1, "only the page's own script");
		assert.ok(
			(await page.locator('h1').first().textContent())?.includes('<script>alert("s")</script>'),
			'shown as text',
		);
		assert.ok((await page.locator('#answer_0').inputValue()).includes('"><svg onload='));
		await page.close();
	});

	it('saves a screenshot of the review page', async () => {
		const workflow = await reviewWorkflow();
		const [{ link }] = await startReviews(workflow.id, workflow.path, [
			{
				text: 'Order 1182: the customer received a damaged blender and asks for a full refund of 89 EUR.',
				ticket: 'R-1182',
				draft: 'Approve a full refund of 89 EUR to the original payment method.',
			},
		]);
		const page = await browser.newPage({
			viewport: { width: 430, height: 1100 },
			deviceScaleFactor: 1,
		});
		await page.goto(link);
		await saveScreenshot(page, 'review-page.png', {
			fullPage: true,
			// The attempts table's Time column.
			mask: [page.locator('table td:nth-child(5)')],
		});
		await page.close();
	});

	it('a time limit ends on Timed Out, never on Approved, and a late decision does not resume', async () => {
		const [{ executionId, link }] = await timeLimited;
		const { execution, outputs } = await finished(executionId, 100_000);
		assert.equal(execution.status, 'success');
		assert.deepEqual(
			outputs.map((o) => o.length),
			[1, 0, 0],
			'on Timed Out only',
		);
		assert.equal(outputs[0][0].json.ticket, 'T-TIME');
		assert.equal(
			execution.data?.resultData.runData['After Approval'],
			undefined,
			'the Approved branch never ran',
		);
		assert.equal((await postForm(link, { decision_0: 'approve' })).status, 409);
		assert.equal(
			(await ctx.n8n.execution(executionId)).data?.resultData.runData['After Approval'],
			undefined,
		);
	});

	it('20 waiting reviews survive a crash (SIGKILL) and each resumes exactly once', async () => {
		const workflow = await reviewWorkflow();
		const tickets = Array.from({ length: 20 }, (_, i) => ({
			text: `Refund ${i}?`,
			ticket: `K-${i}`,
		}));
		const reviews = await startReviews(workflow.id, workflow.path, tickets);
		await ctx.n8n.restart('SIGKILL');
		for (let i = 0; i < reviews.length; i += 4) {
			const batch = reviews.slice(i, i + 4);
			const statuses = await Promise.all(
				batch.map((r) =>
					postForm(r.link, { decision_0: 'approve', name: 'Ops' }).then((res) => res.status),
				),
			);
			assert.deepEqual(
				statuses,
				batch.map(() => 200),
			);
		}
		for (const review of reviews) {
			const { execution, outputs } = await finished(review.executionId);
			assert.equal(execution.status, 'success');
			assert.deepEqual(
				outputs.map((o) => o.length),
				[0, 1, 0],
			);
			assert.equal(
				(execution.data?.resultData.runData['After Approval'] ?? []).length,
				1,
				'resumed once',
			);
			assert.equal(
				(await postForm(review.link, { decision_0: 'approve' })).status,
				409,
				'no second resume',
			);
		}
	});
});
