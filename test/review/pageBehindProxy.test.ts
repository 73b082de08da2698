/**
 * The review page in a real browser (Debian's Chromium), served by the Human Review webhook
 * behind a stand-in for a reverse proxy that publishes n8n under /n8n and strips that prefix:
 * n8n then sees paths without it. The page must post back to the address it was opened
 * with, and an answer that is not the node's (a 404 from the proxy or from n8n) must show
 * as a decision not recorded, never as "Already decided".
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

import type { Browser } from 'playwright-core';

import { HumanReview } from '../../nodes/HumanReview/HumanReview.node.ts';
import { launchChromium } from '../support/browser';
import { fakeWebhook, tokenOf } from '../support/fakeWebhook';

const PREFIX = '/n8n';
let browser: Browser;
let server: Server;
let base = '';
/** What reached n8n, as n8n saw it (prefix stripped). */
const received: Array<{ method: string; url: string }> = [];
/** What n8n resumed with, per execution. */
const resumed = new Map<string, unknown>();
/** When set, n8n answers every decision with this status (its 404 for a webhook it lacks). */
let n8nAnswers: number | undefined;

async function bodyOf(req: IncomingMessage): Promise<Record<string, string>> {
	const chunks: Buffer[] = [];
	for await (const chunk of req) chunks.push(chunk as Buffer);
	return Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString()));
}

before(async () => {
	process.env.N8N_USER_FOLDER = mkdtempSync(join(tmpdir(), 'review-proxy-user-folder-'));
	browser = await launchChromium();
	server = createServer((req, res) => {
		void (async () => {
			const url = new URL(req.url ?? '/', 'http://127.0.0.1');
			// The proxy: only /n8n/... reaches n8n, without the prefix.
			const match = /^\/n8n\/webhook-waiting\/([^/]+)$/.exec(url.pathname);
			if (!match) {
				res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
				return;
			}
			const executionId = match[1];
			received.push({
				method: req.method ?? '',
				url: `${url.pathname.slice(PREFIX.length)}${url.search}`,
			});
			const body = req.method === 'POST' ? await bodyOf(req) : undefined;
			if (req.method === 'POST' && n8nAnswers) {
				res
					.writeHead(n8nAnswers, { 'content-type': 'application/json' })
					.end(JSON.stringify({ code: n8nAnswers, message: 'Not Found' }));
				return;
			}
			const { context, result } = fakeWebhook({
				executionId,
				node: 'Review',
				runIndex: 0,
				method: req.method === 'POST' ? 'POST' : 'GET',
				token: url.searchParams.get('review'),
				body,
			});
			const answer = await new HumanReview().webhook.call(context);
			if (answer.workflowData) resumed.set(executionId, answer.workflowData);
			res.writeHead(result.status, result.headers).end(result.body);
		})().catch((error: unknown) => {
			res.writeHead(500).end(String(error));
		});
	});
	await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
	base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
	await browser?.close();
	await new Promise((resolve) => server?.close(resolve));
	const { closeStateStores } = await import('../../nodes/shared/stateStores');
	await closeStateStores();
});

let executions = 0;
function reviewLink(): { executionId: string; link: string } {
	const executionId = `proxy-${process.pid}-${++executions}`;
	const token = tokenOf({ executionId, node: 'Review', runIndex: 0 });
	return {
		executionId,
		link: `${base}${PREFIX}/webhook-waiting/${executionId}?signature=abc&review=${token}`,
	};
}

describe('the review page behind a proxy that strips a path prefix', () => {
	it('posts the decision to the address it was opened with, and records it', async () => {
		const { executionId, link } = reviewLink();
		const page = await browser.newPage();
		try {
			assert.equal((await page.goto(link))?.status(), 200);
			await page.fill('#name', 'Ana');
			await page.click('button.approve');
			await page.getByText('Decision recorded: Approved').waitFor({ timeout: 10_000 });
		} finally {
			await page.close();
		}
		const posts = received.filter((r) => r.method === 'POST' && r.url.includes(executionId));
		assert.equal(posts.length, 1);
		assert.equal(posts[0].url, new URL(link).pathname.slice(PREFIX.length) + new URL(link).search);
		assert.deepEqual(
			(resumed.get(executionId) as unknown[][]).map((output) => output.length),
			[0, 1, 0],
		);
	});

	for (const status of [404, 500]) {
		it(`a ${status} answer shows the decision was not recorded, not "Already decided"`, async () => {
			const { executionId, link } = reviewLink();
			const page = await browser.newPage();
			n8nAnswers = status;
			try {
				await page.goto(link);
				await page.click('button.approve');
				const problem = page.locator('#send-problem');
				await problem.waitFor({ state: 'visible', timeout: 10_000 });
				assert.match((await problem.textContent()) ?? '', new RegExp(`answered ${status}`));
				assert.match((await problem.textContent()) ?? '', /not recorded/);
				assert.equal(await page.getByText('Already decided').count(), 0);
				assert.equal(
					await page.locator('button.approve').isEnabled(),
					true,
					'it can be sent again',
				);
				n8nAnswers = undefined;
				await page.click('button.approve');
				await page.getByText('Decision recorded: Approved').waitFor({ timeout: 10_000 });
			} finally {
				n8nAnswers = undefined;
				await page.close();
			}
			assert.ok(resumed.has(executionId), 'the second try went through');
		});
	}
});
