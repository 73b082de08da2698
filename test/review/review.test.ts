/** The review page and decision parsing alone, without n8n. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseReview } from '../../lib/review/decision';
import { claimDecision } from '../../lib/review/decisionClaims';
import type { ReviewItem, ReviewSettings } from '../../lib/review/page';
import { escapeHtml, pageHeaders, renderReviewPage } from '../../lib/review/page';

const item: ReviewItem = {
	title: 'Refund R-1',
	details: 'Late parcel',
	prompt: 'Decide',
	draftAnswer: 'Approve',
	reason: 'All down',
	attempts: [
		{
			tier: 1,
			provider: 'anthropic',
			model: 'm',
			errorClass: 'overloaded',
			httpStatus: 529,
			latencyMs: 12.3,
		},
	],
};
const settings: ReviewSettings = {
	allowEdit: true,
	requiredFields: ['commentOnReject'],
	password: '',
	allowedEmails: [],
};

describe('review page', () => {
	it('escapes every untrusted string, in text and in attributes', () => {
		const evil = `<script>x</script>"'&<img onerror=y>`;
		const html = renderReviewPage(
			[
				{
					...item,
					title: evil,
					details: evil,
					prompt: evil,
					draftAnswer: evil,
					reason: evil,
					attempts: [{ model: evil }],
				},
			],
			settings,
			'n0nce',
			{ name: evil, email: evil, comment: evil },
		);
		assert.ok(!html.includes('<script>x'), 'no raw script tag');
		assert.ok(!html.includes('<img'), 'no raw img tag');
		assert.ok(!html.includes(' action='), 'no address of its own: the form posts to the page URL');
		// Each of the nine fields shows up escaped, two of them twice: the title also names the
		// tab, and the draft answer is shown and also offered for editing.
		assert.equal(
			html.split('&lt;script&gt;x&lt;/script&gt;&quot;&#39;&amp;&lt;img onerror=y&gt;').length - 1,
			11,
		);
		assert.equal((html.match(/<script/g) ?? []).length, 1, 'only the page script, with its nonce');
		assert.match(html, /<script nonce="n0nce">/);
	});

	it('sends a Content-Security-Policy that allows only the nonced script', () => {
		const csp = pageHeaders('abc')['Content-Security-Policy'];
		assert.match(csp, /default-src 'none'/);
		assert.match(csp, /script-src 'nonce-abc'/);
		assert.equal(escapeHtml(`<"'&>`), '&lt;&quot;&#39;&amp;&gt;');
	});

	it('shows one decision per item when several items wait together', () => {
		const html = renderReviewPage([item, { ...item, title: 'Refund R-2' }], settings, 'n');
		assert.match(html, /name="decision_0" value="approve"/);
		assert.match(html, /name="decision_1" value="reject"/);
		assert.match(html, /Submit decisions/);
	});
});

describe('parseReview', () => {
	it('approves with the edited answer and says it was edited', () => {
		const parsed = parseReview(
			{ decision_0: 'approve', answer_0: 'Approve 40 EUR\r\nThanks', name: ' Ana ' },
			[item],
			settings,
		);
		assert.ok(parsed.ok);
		assert.deepEqual(parsed.decisions, [
			{ index: 0, decision: 'approved', answer: 'Approve 40 EUR\nThanks', edited: true },
		]);
		assert.equal(parsed.name, 'Ana');
	});

	it('keeps the draft when editing is off', () => {
		const parsed = parseReview({ decision_0: 'approve', answer_0: 'changed' }, [item], {
			...settings,
			allowEdit: false,
		});
		assert.ok(parsed.ok);
		assert.deepEqual(parsed.decisions[0], {
			index: 0,
			decision: 'approved',
			answer: 'Approve',
			edited: false,
		});
	});

	it('names each problem and keeps what was typed', () => {
		const parsed = parseReview(
			{ decision_0: 'maybe', decision_1: 'reject', email: 'not-an-email' },
			[item, item],
			settings,
		);
		assert.ok(!parsed.ok);
		assert.equal(parsed.status, 400);
		assert.deepEqual(parsed.problems, [
			'Unknown decision "maybe" for item 1: use approve or reject.',
			'The email address does not look right.',
			'Enter a comment saying why you reject.',
		]);
		assert.equal(parsed.values.email, 'not-an-email');
	});

	describe('a guarded review (password and reviewer list)', () => {
		const guarded = { ...settings, password: 'pw', allowedEmails: ['ana@example.com'] };
		const refusal = (body: Record<string, string>) => {
			const parsed = parseReview({ decision_0: 'approve', ...body }, [item], guarded);
			return parsed.ok ? 'accepted' : { status: parsed.status, problems: parsed.problems };
		};

		it('refuses a wrong password with 403, even from a listed reviewer', () => {
			assert.deepEqual(refusal({ email: 'ana@example.com', password: 'nope' }), {
				status: 403,
				problems: ['The review password is wrong.'],
			});
		});

		it('refuses an email not on the list with 403, even with the right password', () => {
			assert.deepEqual(refusal({ email: 'eve@example.com', password: 'pw' }), {
				status: 403,
				problems: ['This email is not on the list of reviewers for this workflow.'],
			});
		});

		it('asks for the email when there is a reviewer list', () => {
			assert.deepEqual(refusal({ password: 'pw' }), {
				status: 400,
				problems: ['Enter your email.'],
			});
		});

		it('accepts a listed reviewer, comparing emails case-insensitively', () => {
			assert.equal(refusal({ email: 'Ana@Example.com', password: 'pw' }), 'accepted');
		});
	});

	it('refuses oversized answers', () => {
		const parsed = parseReview(
			{ decision_0: 'approve', answer_0: 'x'.repeat(20_001) },
			[item],
			settings,
		);
		assert.ok(!parsed.ok && /longer than 20000/.test(parsed.problems[0]));
	});
});

describe('claimDecision', () => {
	it('lets the first decision on a wait through, and no other until the claim expires', async () => {
		const now = Date.parse('2026-11-27T12:00:00Z');
		const wait = (executionId: string, node = 'Review', runIndex = 0) => ({
			executionId,
			node,
			runIndex,
		});
		const claimed = async (w: ReturnType<typeof wait>, at: number) =>
			(await claimDecision(w, undefined, at)).claimed;
		assert.equal(await claimed(wait('exec-a'), now), true);
		assert.equal(await claimed(wait('exec-a'), now + 1), false);
		assert.equal(await claimed(wait('exec-b'), now + 2), true);
		assert.equal(await claimed(wait('exec-a', 'Manager review'), now + 3), true, 'another node');
		assert.equal(await claimed(wait('exec-a', 'Review', 1), now + 4), true, 'another run');
		assert.equal(
			await claimed(wait('exec-a'), now + 15 * 60_000),
			false,
			'held for the whole 15 minutes',
		);
		assert.equal(
			await claimed(wait('exec-a'), now + 15 * 60_000 + 1),
			true,
			'expired claims are dropped',
		);
	});
});
