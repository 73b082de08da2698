/**
 * Human Review's execute: check what the wait needs, then put the execution to wait for the
 * reviewer, with or without a time limit.
 */
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';
import { NodeOperationError, WAIT_INDEFINITELY } from 'n8n-workflow';

import { reviewTokenOf } from '../../lib/review/reviewToken';
import { DEFAULT_REVIEW_LINK } from './description';
import { passwordSetting, text } from './reviewParameters';

const UNIT_MS: Record<string, number> = {
	seconds: 1_000,
	minutes: 60_000,
	hours: 3_600_000,
	days: 86_400_000,
};

/**
 * The link the reviewer was sent, read for every item: each must carry a review token, and
 * the same one, as the items are decided on one page. Without it nobody could decide.
 */
function checkedReviewLink(ctx: IExecuteFunctions, count: number): string {
	let first: { link: string; token: string } | undefined;
	const fix =
		'Put a Human Review Link node before the node that sends the reviewer the link, and point Review Link at it: {{ $("Review Link").first().json.reviewLink }}';
	for (let itemIndex = 0; itemIndex < count; itemIndex++) {
		let link: string;
		try {
			link = text(ctx.getNodeParameter('reviewLink', itemIndex, DEFAULT_REVIEW_LINK));
		} catch (error) {
			throw new NodeOperationError(
				ctx.getNode(),
				`Review Link of item ${itemIndex + 1} could not be read: ${(error as Error).message}`,
				{ itemIndex, description: fix },
			);
		}
		const token = reviewTokenOf(link);
		if (!token) {
			throw new NodeOperationError(
				ctx.getNode(),
				`Review Link of item ${itemIndex + 1} is not a link made by a Human Review Link node`,
				{ itemIndex, description: `It carries no review token. ${fix}` },
			);
		}
		if (!first) first = { link, token };
		else if (token !== first.token) {
			throw new NodeOperationError(
				ctx.getNode(),
				`Review Link of item ${itemIndex + 1} is not the link of item 1`,
				{
					itemIndex,
					description:
						'The items of one wait are decided on one page, through one link: let them pass one Human Review Link node together.',
				},
			);
		}
	}
	return first?.link ?? '';
}

/** A Reviewer Password that is set must give a password for every item: never an open review. */
function checkPassword(ctx: IExecuteFunctions, count: number): void {
	const raw = ((ctx.getNode().parameters.options ?? {}) as IDataObject).password;
	for (let itemIndex = 0; itemIndex < count; itemIndex++) {
		let resolved: unknown;
		try {
			resolved = ctx.getNodeParameter('options.password', itemIndex, '');
		} catch (error) {
			throw new NodeOperationError(
				ctx.getNode(),
				`Reviewer Password of item ${itemIndex + 1} could not be read: ${(error as Error).message}`,
				{ itemIndex },
			);
		}
		const password = passwordSetting(raw, resolved);
		if (password.set && password.value === '') {
			throw new NodeOperationError(
				ctx.getNode(),
				`Reviewer Password of item ${itemIndex + 1} is empty`,
				{
					itemIndex,
					description:
						'Its expression gave nothing, and a review without its password would accept anyone with the link. Check what the expression reads (a variable or environment value that is not set?), or remove the option.',
				},
			);
		}
	}
}

/** Until when the execution waits: for good, or for the Time Limit. */
function waitTillOf(ctx: IExecuteFunctions): Date {
	if (!ctx.getNodeParameter('limitWaitTime', 0, false)) return WAIT_INDEFINITELY;
	const amount = Number(ctx.getNodeParameter('timeLimit', 0, 24));
	const unit = String(ctx.getNodeParameter('timeLimitUnit', 0, 'hours'));
	if (!Number.isFinite(amount) || amount <= 0 || !UNIT_MS[unit]) {
		throw new NodeOperationError(
			ctx.getNode(),
			`Time Limit must be a positive number of ${Object.keys(UNIT_MS).join(', ')}`,
			{
				description: `Got ${JSON.stringify(amount)} ${unit}`,
			},
		);
	}
	return new Date(Date.now() + amount * UNIT_MS[unit]);
}

export async function waitForReview(ctx: IExecuteFunctions): Promise<INodeExecutionData[][]> {
	const items = ctx.getInputData();
	const link = checkedReviewLink(ctx, items.length);
	checkPassword(ctx, items.length);
	const waitTill = waitTillOf(ctx);
	// The editor reads the review link of a waiting node from its task's metadata.
	ctx.setMetadata({ resumeUrl: link });
	await ctx.putExecutionToWait(waitTill);
	return [items, [], []];
}
