/**
 * Human Review's webhook: a request to the review link. Only the link's own token opens the
 * page; a GET shows it, a POST decides, and only the first decision on a wait counts.
 */
import { randomBytes } from 'node:crypto';

import type {
	IDataObject,
	INodeExecutionData,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';

import { MAX_BODY_BYTES, parseReview } from '../../lib/review/decision';
import type { ParsedReview } from '../../lib/review/decision';
import { claimDecision } from '../../lib/review/decisionClaims';
import type { Wait } from '../../lib/review/decisionClaims';
import type { ReviewItem, ReviewSettings } from '../../lib/review/page';
import {
	pageHeaders,
	renderAlreadyDecidedPage,
	renderDecidedPage,
	renderProblemPage,
	renderReviewPage,
} from '../../lib/review/page';
import { sameSecret } from '../../lib/review/reviewToken';
import { claimStore, expectedToken, givenToken, pendingItems, waitOf } from './pendingReview';
import type { PendingItem } from './pendingReview';
import { settingsOf } from './reviewParameters';

/** Writes a page with this request's headers; the node sends no response of its own. */
type Send = (status: number, html: string) => IWebhookResponseData;

export async function answerReviewRequest(ctx: IWebhookFunctions): Promise<IWebhookResponseData> {
	const res = ctx.getResponseObject();
	const nonce = randomBytes(16).toString('base64');
	const send: Send = (status, html) => {
		res.status(status).set(pageHeaders(nonce)).send(html);
		return { noWebhookResponse: true };
	};
	// Before anything about the review is read or shown: only its own link opens it.
	const expected = expectedToken(ctx);
	if (!expected || !sameSecret(givenToken(ctx), expected)) {
		return send(
			403,
			renderProblemPage(
				'Not the link to this review',
				'This link does not open the review waiting here: it was made for another review, or part of it is missing. Open the link from your message, whole.',
				nonce,
				false,
			),
		);
	}
	const settings = settingsOf(ctx);
	if (settings.passwordUnreadable) {
		ctx.logger.warn(
			'Human Review: its Reviewer Password is set but gave nothing; no decision is accepted',
			{
				node: ctx.getNode().name,
				executionId: ctx.getExecutionId(),
			},
		);
		return send(
			503,
			renderProblemPage(
				'Review unavailable',
				"This review's password cannot be read right now, so it accepts no decision. Tell the workflow's owner.",
				nonce,
			),
		);
	}
	const pending = pendingItems(ctx);
	const reviews = pending.map((p) => p.review);
	const wait = waitOf(ctx);
	if (ctx.getRequestObject().method !== 'POST')
		return send(200, renderReviewPage(reviews, settings, nonce));
	return await decide(ctx, { send, nonce, pending, reviews, settings, wait });
}

interface Review {
	send: Send;
	nonce: string;
	pending: PendingItem[];
	reviews: ReviewItem[];
	settings: ReviewSettings;
	wait: Wait;
}

/** A submitted decision: checked, claimed as the first, then the items leave on their outputs. */
async function decide(ctx: IWebhookFunctions, review: Review): Promise<IWebhookResponseData> {
	const { send, nonce, reviews, settings } = review;
	if (Number(ctx.getRequestObject().headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
		return send(
			413,
			renderProblemPage(
				'Submission too large',
				`A review may send at most ${MAX_BODY_BYTES / 1024} KB. Shorten the answer or the comment.`,
				nonce,
			),
		);
	}
	const body = ctx.getBodyData();
	const parsed = parseReview(body && typeof body === 'object' ? body : {}, reviews, settings);
	if (!parsed.ok) {
		return send(
			parsed.status,
			renderReviewPage(reviews, settings, nonce, parsed.values, parsed.problems),
		);
	}
	const { store, problem } = await claimStore(ctx);
	const claim = await claimDecision(review.wait, store);
	const storeProblem = problem ?? claim.storeProblem;
	if (storeProblem) {
		ctx.logger.warn(
			'Human Review: the state store is unavailable; only this n8n process can tell whether the review was already decided',
			{ node: ctx.getNode().name, executionId: ctx.getExecutionId(), error: storeProblem },
		);
	}
	if (!claim.claimed) return send(409, renderAlreadyDecidedPage(nonce));
	const { approved, rejected } = decidedItems(parsed, review.pending);
	send(
		200,
		renderDecidedPage(
			{ approved: approved.length, rejected: rejected.length, reviewer: parsed.name },
			nonce,
		),
	);
	return { noWebhookResponse: true, workflowData: [[], approved, rejected] };
}

/** Each item as it came in, with the reviewer's decision (and answer, when approved). */
function decidedItems(
	parsed: Extract<ParsedReview, { ok: true }>,
	pending: PendingItem[],
): { approved: INodeExecutionData[]; rejected: INodeExecutionData[] } {
	const decidedAt = new Date().toISOString();
	const approved: INodeExecutionData[] = [];
	const rejected: INodeExecutionData[] = [];
	for (const decision of parsed.decisions) {
		const item = pending[decision.index];
		const review: IDataObject = {
			decision: decision.decision,
			...(decision.decision === 'approved'
				? { answer: decision.answer, edited: decision.edited }
				: {}),
			...(parsed.name ? { reviewer: parsed.name } : {}),
			...(parsed.email ? { reviewerEmail: parsed.email } : {}),
			comment: parsed.comment,
			decidedAt,
		};
		(decision.decision === 'approved' ? approved : rejected).push({
			json: {
				...item.json,
				...(decision.decision === 'approved' ? { answer: decision.answer } : {}),
				review,
			},
			...(item.binary ? { binary: item.binary } : {}),
			pairedItem: { item: decision.index },
		});
	}
	return { approved, rejected };
}
