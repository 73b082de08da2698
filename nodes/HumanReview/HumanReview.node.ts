import { randomBytes } from 'node:crypto';

import type {
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
import { claimDecision, waitId } from '../../lib/review/decisionClaims';
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
import type { StateStore } from '../../lib/state/types';
import { openStateStore, redisCredentialTest } from '../ResilientLlm/stateStores';
import { properties } from './description';

const UNIT_MS: Record<string, number> = {
	seconds: 1_000,
	minutes: 60_000,
	hours: 3_600_000,
	days: 86_400_000,
};

/** A review's page content and input item, worked out again on each request from the waiting execution. */
interface PendingItem {
	json: IDataObject;
	review: ReviewItem;
}

function text(value: unknown): string {
	if (value === undefined || value === null) return '';
	return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

/**
 * In webhook context n8n evaluates expressions against the waiting node's own input items,
 * so the page is rebuilt from the stored execution on every request: nothing is kept aside.
 */
function pendingItems(ctx: IWebhookFunctions): PendingItem[] {
	const count = Number(ctx.evaluateExpression('{{ $input.all().length }}', 0)) || 0;
	const parameters = ctx.getNode().parameters;
	const read = (name: string, itemIndex: number): string => {
		const raw = parameters[name];
		if (typeof raw === 'string' && raw.startsWith('='))
			return text(ctx.evaluateExpression(raw.slice(1), itemIndex));
		return text(raw);
	};
	const items: PendingItem[] = [];
	for (let i = 0; i < count; i++) {
		const json = (ctx.evaluateExpression('{{ $json }}', i) ?? {}) as IDataObject;
		const resilience = json.resilience as { attempts?: ReviewAttempt[] } | undefined;
		items.push({
			json,
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

function settingsOf(ctx: IWebhookFunctions): ReviewSettings {
	const options = ctx.getNodeParameter('options', {}) as IDataObject;
	return {
		allowEdit: (options.allowEdit as boolean | undefined) ?? true,
		requiredFields: ((options.requiredFields as RequiredField[] | undefined) ?? [
			'commentOnReject',
		]) as RequiredField[],
		password: String(options.password ?? ''),
		allowedEmails: String(options.allowedEmails ?? '')
			.split(',')
			.map((e) => e.trim().toLowerCase())
			.filter(Boolean),
	};
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
		// Shown on the waiting node in the editor: the signed link, to open the review page there.
		waitingNodeTooltip:
			'={{ "Waiting for a decision. <a href=\'" + $execution.resumeUrl + "\' target=\'_blank\'>Open the review page</a>" }}',
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
		credentials: [
			{
				name: 'resilientLlmRedisApi',
				displayName: 'Redis (State Store)',
				required: true,
				testedBy: 'resilientLlmRedisTest',
				displayOptions: { show: { '/options.stateStore': ['redis'] } },
			},
		],
		properties,
	};

	methods = { credentialTest: { resilientLlmRedisTest: redisCredentialTest } };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
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
		// The editor reads the signed resume link of a waiting node from its task's metadata.
		this.setMetadata({
			resumeUrl: String(this.evaluateExpression('{{ $execution.resumeUrl }}', 0)),
		});
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
		const settings = settingsOf(this);
		const pending = pendingItems(this);
		const reviews = pending.map((p) => p.review);
		// The signed link itself, so the form posts back with its signature.
		const action = req.originalUrl;
		const wait = waitOf(this);
		const thisWait = waitId(wait);

		if (req.method !== 'POST') {
			send(200, renderReviewPage(reviews, settings, action, nonce, {}, [], thisWait));
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
		// A page from an earlier wait of this execution, whose wait is over: its decision is not
		// one on the review waiting now. Posts without the field (scripts) decide the current wait.
		const postedWait = body && typeof body === 'object' ? body.wait : undefined;
		if (typeof postedWait === 'string' && postedWait !== thisWait) {
			send(409, renderAlreadyDecidedPage(nonce));
			return { noWebhookResponse: true };
		}
		const parsed = parseReview(body && typeof body === 'object' ? body : {}, reviews, settings);
		if (!parsed.ok) {
			send(
				parsed.status,
				renderReviewPage(
					reviews,
					settings,
					action,
					nonce,
					parsed.values,
					parsed.problems,
					thisWait,
				),
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
