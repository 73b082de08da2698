import { randomBytes } from 'node:crypto';

import type {
	IBinaryKeyData,
	IDataObject,
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError, WAIT_INDEFINITELY } from 'n8n-workflow';

import { MAX_BODY_BYTES, parseReview } from '../../lib/review/decision';
import { claimDecision } from '../../lib/review/decisionClaims';
import type { Wait } from '../../lib/review/decisionClaims';
import type {
	RequiredField,
	ReviewAttempt,
	ReviewItem,
	ReviewSettings,
} from '../../lib/review/page';
import {
	pageHeaders,
	renderAlreadyDecidedPage,
	renderDecidedPage,
	renderProblemPage,
	renderReviewPage,
} from '../../lib/review/page';
import { REVIEW_TOKEN_PARAM, reviewTokenOf, sameSecret } from '../../lib/review/reviewToken';
import type { StateStore } from '../../lib/state/types';
import { openStateStore } from '../shared/stateStores';
import { REDIS_CREDENTIAL_TESTS, redisCredentialSlots } from '../shared/stateStoreParameters';
import { DEFAULT_REVIEW_LINK, properties } from './description';

const UNIT_MS: Record<string, number> = {
	seconds: 1_000,
	minutes: 60_000,
	hours: 3_600_000,
	days: 86_400_000,
};

/** A review's page content and input item, worked out again on each request from the waiting execution. */
interface PendingItem {
	json: IDataObject;
	binary?: IBinaryKeyData;
	review: ReviewItem;
}

function text(value: unknown): string {
	if (value === undefined || value === null) return '';
	return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

/** An input item's files, when it has any: they leave with the item on every output. */
function binaryOf(item: unknown): IBinaryKeyData | undefined {
	const binary = (item as { binary?: unknown } | undefined)?.binary;
	return binary && typeof binary === 'object' && Object.keys(binary).length > 0
		? (binary as IBinaryKeyData)
		: undefined;
}

/** A parameter as this node's webhook reads it: an expression is evaluated for the item. */
function parameterOf(
	ctx: IWebhookFunctions,
	name: string,
	itemIndex: number,
	fallback = '',
): string {
	const raw = ctx.getNode().parameters[name] ?? fallback;
	if (typeof raw === 'string' && raw.startsWith('='))
		return text(ctx.evaluateExpression(raw.slice(1), itemIndex));
	return text(raw);
}

/**
 * The token of the link the reviewer was sent: the Review Link parameter, the same for every
 * item (execute() made sure of that). Undefined when it cannot be read: then nobody decides.
 */
function expectedToken(ctx: IWebhookFunctions): string | undefined {
	try {
		return reviewTokenOf(parameterOf(ctx, 'reviewLink', 0, DEFAULT_REVIEW_LINK));
	} catch {
		return undefined;
	}
}

/** The review token a request came with: in the link's query string, or as a form field. */
function givenToken(ctx: IWebhookFunctions): string {
	const fromQuery = (ctx.getQueryData() as IDataObject)[REVIEW_TOKEN_PARAM];
	if (typeof fromQuery === 'string') return fromQuery;
	const body = ctx.getRequestObject().method === 'POST' ? ctx.getBodyData() : undefined;
	const fromBody = body && typeof body === 'object' ? body[REVIEW_TOKEN_PARAM] : undefined;
	return typeof fromBody === 'string' ? fromBody : '';
}

/**
 * The Reviewer Password as set: undefined for none. An expression that gives nothing is
 * not "no password": it is a password that could not be read, and decides nothing.
 */
function passwordSetting(raw: unknown, resolved: unknown): { set: boolean; value: string } {
	const set = typeof raw === 'string' ? raw.trim() !== '' && raw.trim() !== '=' : raw !== undefined;
	return { set, value: resolved === undefined || resolved === null ? '' : String(resolved) };
}

/**
 * In webhook context n8n evaluates expressions against the waiting node's own input items,
 * so the page is rebuilt from the stored execution on every request: nothing is kept aside.
 */
function pendingItems(ctx: IWebhookFunctions): PendingItem[] {
	const count = Number(ctx.evaluateExpression('{{ $input.all().length }}', 0)) || 0;
	const read = (name: string, itemIndex: number) => parameterOf(ctx, name, itemIndex);
	const items: PendingItem[] = [];
	for (let i = 0; i < count; i++) {
		const json = (ctx.evaluateExpression('{{ $json }}', i) ?? {}) as IDataObject;
		const binary = binaryOf(ctx.evaluateExpression('{{ $input.item }}', i));
		const resilience = json.resilience as { attempts?: ReviewAttempt[] } | undefined;
		items.push({
			json,
			...(binary ? { binary } : {}),
			review: {
				title: read('title', i),
				details: read('details', i),
				prompt: read('prompt', i),
				draftAnswer: read('draftAnswer', i),
				reason: read('reason', i),
				attempts: Array.isArray(resilience?.attempts) ? resilience.attempts : [],
			},
		});
	}
	return items;
}

/**
 * The wait this request decides: the execution, this node, and which of its runs is waiting.
 * While it waits, n8n keeps that run as the node's last one, and `$node[…].runIndex` is its index.
 */
function waitOf(ctx: IWebhookFunctions): Wait {
	const node = ctx.getNode().name;
	let runIndex = -1;
	try {
		runIndex = Number(ctx.evaluateExpression(`{{ $node[${JSON.stringify(node)}].runIndex }}`, 0));
	} catch {
		// Unknown: the claim is then per execution and node, as strict as it gets.
	}
	return {
		executionId: ctx.getExecutionId(),
		node,
		runIndex: Number.isInteger(runIndex) ? runIndex : -1,
	};
}

/** The store the claims are kept in; none (claims in this process only) when it cannot be opened. */
async function claimStore(
	ctx: IWebhookFunctions,
): Promise<{ store?: StateStore; problem?: string }> {
	const options = ctx.getNodeParameter('options', {}) as IDataObject;
	try {
		return {
			store: await openStateStore(ctx, options.stateStore === 'redis' ? 'redis' : 'embedded'),
		};
	} catch (error) {
		return { problem: (error as Error).message };
	}
}

function settingsOf(ctx: IWebhookFunctions): ReviewSettings & { passwordUnreadable: boolean } {
	const options = ctx.getNodeParameter('options', {}) as IDataObject;
	const rawOptions = (ctx.getNode().parameters.options ?? {}) as IDataObject;
	const password = passwordSetting(rawOptions.password, options.password);
	return {
		passwordUnreadable: password.set && password.value === '',
		allowEdit: (options.allowEdit as boolean | undefined) ?? true,
		requiredFields: ((options.requiredFields as RequiredField[] | undefined) ?? [
			'commentOnReject',
		]) as RequiredField[],
		password: password.value,
		allowedEmails: String(options.allowedEmails ?? '')
			.split(',')
			.map((e) => e.trim().toLowerCase())
			.filter(Boolean),
	};
}

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

// These are resume webhooks of a waiting execution, as in n8n's Wait node: nothing is
// registered on a remote service, so there is no create/check/delete lifecycle.
// eslint-disable-next-line @n8n/community-nodes/webhook-lifecycle-complete
export class HumanReview implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Human Review',
		name: 'humanReview',
		icon: { light: 'file:humanReview.svg', dark: 'file:humanReview.dark.svg' },
		group: ['transform'],
		// Listed as versions so that a change saved workflows cannot take ships as version 2.
		version: [1],
		defaultVersion: 1,
		subtitle:
			'={{ $parameter["limitWaitTime"] ? "wait up to " + $parameter["timeLimit"] + " " + $parameter["timeLimitUnit"] : "wait for a decision" }}',
		description:
			'Pause the workflow until a person approves, edits or rejects, through a review page',
		defaults: { name: 'Human Review' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		// n8n resumes a wait that times out by sending the original items to output 0 without
		// calling the node, so output 0 is Timed Out: a timeout can never read as an approval.
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Timed Out', 'Approved', 'Rejected'],
		// Shown on the waiting node in the editor: the review link, to open the review page there.
		// The editor resolves this with the node's parameters and $execution only: the review's
		// token lives in the Review Link node's output, so the tooltip points there.
		waitingNodeTooltip:
			"Waiting for a decision. The review page's link, with its token, is the reviewLink field in the Review Link node's output.",
		webhooks: [
			{
				name: 'default',
				httpMethod: 'GET',
				responseMode: 'onReceived',
				path: '',
				restartWebhook: true,
				isFullPath: true,
			},
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				path: '',
				restartWebhook: true,
				isFullPath: true,
			},
		],
		credentials: redisCredentialSlots('/options.stateStore'),
		properties,
	};

	methods = { credentialTest: REDIS_CREDENTIAL_TESTS };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const link = checkedReviewLink(this, items.length);
		checkPassword(this, items.length);
		let waitTill = WAIT_INDEFINITELY;
		if (this.getNodeParameter('limitWaitTime', 0, false)) {
			const amount = Number(this.getNodeParameter('timeLimit', 0, 24));
			const unit = String(this.getNodeParameter('timeLimitUnit', 0, 'hours'));
			if (!Number.isFinite(amount) || amount <= 0 || !UNIT_MS[unit]) {
				throw new NodeOperationError(
					this.getNode(),
					`Time Limit must be a positive number of ${Object.keys(UNIT_MS).join(', ')}`,
					{
						description: `Got ${JSON.stringify(amount)} ${unit}`,
					},
				);
			}
			waitTill = new Date(Date.now() + amount * UNIT_MS[unit]);
		}
		// The editor reads the review link of a waiting node from its task's metadata.
		this.setMetadata({ resumeUrl: link });
		await this.putExecutionToWait(waitTill);
		return [items, [], []];
	}

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		const req = this.getRequestObject();
		const res = this.getResponseObject();
		const nonce = randomBytes(16).toString('base64');
		const send = (status: number, html: string) => {
			res.status(status).set(pageHeaders(nonce)).send(html);
		};
		// Before anything about the review is read or shown: only its own link opens it.
		const expected = expectedToken(this);
		if (!expected || !sameSecret(givenToken(this), expected)) {
			send(
				403,
				renderProblemPage(
					'Not the link to this review',
					'This link does not open the review waiting here: it was made for another review, or part of it is missing. Open the link from your message, whole.',
					nonce,
					false,
				),
			);
			return { noWebhookResponse: true };
		}
		const settings = settingsOf(this);
		if (settings.passwordUnreadable) {
			this.logger.warn(
				'Human Review: its Reviewer Password is set but gave nothing; no decision is accepted',
				{
					node: this.getNode().name,
					executionId: this.getExecutionId(),
				},
			);
			send(
				503,
				renderProblemPage(
					'Review unavailable',
					"This review's password cannot be read right now, so it accepts no decision. Tell the workflow's owner.",
					nonce,
				),
			);
			return { noWebhookResponse: true };
		}
		const pending = pendingItems(this);
		const reviews = pending.map((p) => p.review);
		const wait = waitOf(this);

		if (req.method !== 'POST') {
			send(200, renderReviewPage(reviews, settings, nonce));
			return { noWebhookResponse: true };
		}
		if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES) {
			send(
				413,
				renderProblemPage(
					'Submission too large',
					`A review may send at most ${MAX_BODY_BYTES / 1024} KB. Shorten the answer or the comment.`,
					nonce,
				),
			);
			return { noWebhookResponse: true };
		}
		const body = this.getBodyData();
		const parsed = parseReview(body && typeof body === 'object' ? body : {}, reviews, settings);
		if (!parsed.ok) {
			send(
				parsed.status,
				renderReviewPage(reviews, settings, nonce, parsed.values, parsed.problems),
			);
			return { noWebhookResponse: true };
		}

		const { store, problem } = await claimStore(this);
		const claim = await claimDecision(wait, store);
		const storeProblem = problem ?? claim.storeProblem;
		if (storeProblem) {
			this.logger.warn(
				'Human Review: the state store is unavailable; only this n8n process can tell whether the review was already decided',
				{ node: this.getNode().name, executionId: this.getExecutionId(), error: storeProblem },
			);
		}
		if (!claim.claimed) {
			send(409, renderAlreadyDecidedPage(nonce));
			return { noWebhookResponse: true };
		}
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
		send(
			200,
			renderDecidedPage(
				{ approved: approved.length, rejected: rejected.length, reviewer: parsed.name },
				nonce,
			),
		);
		return { noWebhookResponse: true, workflowData: [[], approved, rejected] };
	}
}
