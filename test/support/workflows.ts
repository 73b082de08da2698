/** Workflow JSON for end-to-end tests, built the way the n8n editor saves it. */
import { randomUUID } from 'node:crypto';

import type { WireProvider } from '../../lib/emulator/wire';
import { MODELS } from './emulator';

export const LLM_TYPE = 'n8n-nodes-resilient-llm.resilientLlm';
export const ALERT_TYPE = 'n8n-nodes-resilient-llm.resilienceAlert';

export type CredentialRefs = Record<string, { id: string; name: string }>;

export interface WorkflowNode {
	id: string;
	name: string;
	type: string;
	typeVersion: number;
	position: [number, number];
	parameters: Record<string, unknown>;
	credentials?: CredentialRefs;
	webhookId?: string;
	onError?: string;
	/** n8n's node settings Retry On Fail, Max Tries and Wait Between Tries (ms). */
	retryOnFail?: boolean;
	maxTries?: number;
	waitBetweenTries?: number;
}

export function webhookNode(
	path: string,
	responseMode: 'lastNode' | 'onReceived' | 'responseNode' | 'streaming' = 'lastNode',
): WorkflowNode {
	return {
		id: randomUUID(),
		name: 'Webhook',
		type: 'n8n-nodes-base.webhook',
		// Response Mode "Streaming" is offered from version 2.1 on.
		typeVersion: responseMode === 'streaming' ? 2.1 : 2,
		position: [0, 0],
		webhookId: randomUUID(),
		parameters: {
			httpMethod: 'POST',
			path,
			responseMode,
			...(responseMode === 'lastNode' ? { responseData: 'allEntries' } : {}),
			options: {},
		},
	};
}

/** Turns `body.items` of the webhook call into one n8n item each. */
export function splitItemsNode(): WorkflowNode {
	return {
		id: randomUUID(),
		name: 'Split Items',
		type: 'n8n-nodes-base.splitOut',
		typeVersion: 1,
		position: [220, 0],
		parameters: { fieldToSplitOut: 'body.items', options: {} },
	};
}

export function llmNode(
	parameters: Record<string, unknown>,
	credentials: CredentialRefs,
	extra: Partial<WorkflowNode> = {},
): WorkflowNode {
	return {
		id: randomUUID(),
		name: 'Resilient LLM',
		type: LLM_TYPE,
		typeVersion: 1,
		position: [440, 0],
		parameters,
		credentials,
		...extra,
	};
}

/** Chains nodes output 0 -> input 0, in order. */
export function workflow(name: string, nodes: WorkflowNode[]): Record<string, unknown> {
	const connections: Record<string, unknown> = {};
	for (let i = 0; i < nodes.length - 1; i++) {
		connections[nodes[i].name] = { main: [[{ node: nodes[i + 1].name, type: 'main', index: 0 }]] };
	}
	return { name, nodes, connections };
}

/** The standard test workflow: webhook with `{items: [...]}` -> one item each -> Resilient LLM. */
export function llmWorkflow(
	name: string,
	path: string,
	parameters: Record<string, unknown>,
	credentials: CredentialRefs,
	extra: Partial<WorkflowNode> = {},
): Record<string, unknown> {
	return workflow(name, [
		webhookNode(path),
		splitItemsNode(),
		llmNode(parameters, credentials, extra),
	]);
}

export function setNode(
	name: string,
	fields: Record<string, string>,
	position: [number, number],
): WorkflowNode {
	return {
		id: randomUUID(),
		name,
		type: 'n8n-nodes-base.set',
		typeVersion: 3.4,
		position,
		parameters: {
			mode: 'manual',
			includeOtherFields: true,
			assignments: {
				assignments: Object.entries(fields).map(([key, value]) => ({
					id: randomUUID(),
					name: key,
					value,
					type: 'string',
				})),
			},
			options: {},
		},
	};
}

export function humanReviewNode(
	parameters: Record<string, unknown>,
	position: [number, number] = [880, 0],
): WorkflowNode {
	return {
		id: randomUUID(),
		name: 'Human Review',
		type: 'n8n-nodes-resilient-llm.humanReview',
		typeVersion: 1,
		position,
		webhookId: randomUUID(),
		parameters,
	};
}

/** The Human Review Link node: adds `reviewLink` (the link to one review) to each item. */
export function reviewLinkNode(
	name = 'Review Link',
	position: [number, number] = [550, 120],
): WorkflowNode {
	return {
		id: randomUUID(),
		name,
		type: 'n8n-nodes-resilient-llm.humanReviewLink',
		typeVersion: 1,
		position,
		parameters: {},
	};
}

/** Connects `from` output `output` to `to`'s input 0, on top of what `connections` has. */
export function connect(
	connections: Record<
		string,
		{ main: Array<Array<{ node: string; type: string; index: number }>> }
	>,
	from: string,
	output: number,
	to: string,
): void {
	const entry = (connections[from] ??= { main: [] });
	while (entry.main.length <= output) entry.main.push([]);
	entry.main[output].push({ node: to, type: 'main', index: 0 });
}

/** The Resilience Alert trigger, polling every minute (n8n's shortest poll interval). */
export function alertTriggerNode(
	parameters: Record<string, unknown>,
	credentials?: CredentialRefs,
): WorkflowNode {
	return {
		id: randomUUID(),
		name: 'Resilience Alert',
		type: ALERT_TYPE,
		typeVersion: 1,
		position: [0, 0],
		parameters: { pollTimes: { item: [{ mode: 'everyMinute' }] }, ...parameters },
		...(credentials ? { credentials } : {}),
	};
}

/** A model chain over the emulator's models, one attempt per tier, so each failure shows. */
export function oneAttemptChain(
	providers: WireProvider[],
	timeoutSeconds = 10,
): { tiers: Array<Record<string, unknown>> } {
	return {
		tiers: providers.map((provider) => ({
			provider,
			model: MODELS[provider],
			attempts: 1,
			timeoutSeconds,
		})),
	};
}
