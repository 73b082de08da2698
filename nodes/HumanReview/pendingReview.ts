/**
 * The review a request is about, worked out from the waiting execution: the items and their
 * page content, the token its link carries, which wait it decides, and where that decision
 * is claimed.
 */
import type { IBinaryKeyData, IDataObject, IWebhookFunctions } from 'n8n-workflow';

import type { Wait } from '../../lib/review/decisionClaims';
import type { ReviewAttempt, ReviewItem } from '../../lib/review/page';
import { REVIEW_TOKEN_PARAM, reviewTokenOf } from '../../lib/review/reviewToken';
import type { StateStore } from '../../lib/state/types';
import { openStateStore } from '../shared/stateStores';
import { DEFAULT_REVIEW_LINK } from './description';
import { parameterOf } from './reviewParameters';

/** A review's page content and input item, worked out again on each request from the waiting execution. */
export interface PendingItem {
	json: IDataObject;
	binary?: IBinaryKeyData;
	review: ReviewItem;
}

/** An input item's files, when it has any: they leave with the item on every output. */
function binaryOf(item: unknown): IBinaryKeyData | undefined {
	const binary = (item as { binary?: unknown } | undefined)?.binary;
	return binary && typeof binary === 'object' && Object.keys(binary).length > 0
		? (binary as IBinaryKeyData)
		: undefined;
}

/**
 * The token of the link the reviewer was sent: the Review Link parameter, the same for every
 * item (execute() made sure of that). Undefined when it cannot be read: then nobody decides.
 */
export function expectedToken(ctx: IWebhookFunctions): string | undefined {
	try {
		return reviewTokenOf(parameterOf(ctx, 'reviewLink', 0, DEFAULT_REVIEW_LINK));
	} catch {
		return undefined;
	}
}

/** The review token a request came with: in the link's query string, or as a form field. */
export function givenToken(ctx: IWebhookFunctions): string {
	const fromQuery = (ctx.getQueryData() as IDataObject)[REVIEW_TOKEN_PARAM];
	if (typeof fromQuery === 'string') return fromQuery;
	const body = ctx.getRequestObject().method === 'POST' ? ctx.getBodyData() : undefined;
	const fromBody = body && typeof body === 'object' ? body[REVIEW_TOKEN_PARAM] : undefined;
	return typeof fromBody === 'string' ? fromBody : '';
}

/**
 * In webhook context n8n evaluates expressions against the waiting node's own input items,
 * so the page is rebuilt from the stored execution on every request: nothing is kept aside.
 */
export function pendingItems(ctx: IWebhookFunctions): PendingItem[] {
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
export function waitOf(ctx: IWebhookFunctions): Wait {
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
export async function claimStore(
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
