/**
 * A stand-in for n8n's IWebhookFunctions as the Human Review node sees it when a reviewer
 * posts to a waiting execution: the waiting node, its input items, and which run of the node
 * is waiting (what `$node[…].runIndex` gives in n8n while it waits).
 */
import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	INode,
	IWebhookFunctions,
} from 'n8n-workflow';

export interface Posted {
	status: number;
	body: string;
	/** What the node handed n8n to resume with: Timed Out, Approved, Rejected. */
	workflowData?: unknown;
	logs: Array<{ level: string; message: string; meta?: unknown }>;
}

export interface ReviewPost {
	executionId: string;
	node: string;
	runIndex: number;
	/** POST (a decision) unless told otherwise; GET shows the page. */
	method?: 'GET' | 'POST';
	items?: IDataObject[];
	body?: IDataObject;
	options?: IDataObject;
	credentials?: Record<string, ICredentialDataDecryptedObject>;
}

export function fakeWebhook(post: ReviewPost): {
	context: IWebhookFunctions;
	result: Omit<Posted, 'workflowData'>;
} {
	const items = post.items ?? [{ prompt: 'Refund R-1?', text: 'Approve the refund.' }];
	const node: INode = {
		id: `id-${post.node}`,
		name: post.node,
		type: 'n8n-nodes-resilient-llm.humanReview',
		typeVersion: 1,
		position: [0, 0],
		parameters: {
			title: 'Refund',
			details: '',
			prompt: 'Decide the refund',
			draftAnswer: 'Approve the refund.',
			reason: 'High stakes',
			options: (post.options ?? {}) as INode['parameters'][string],
		},
	};
	const result: Omit<Posted, 'workflowData'> = { status: 0, body: '', logs: [] };
	const response = {
		status(code: number) {
			result.status = code;
			return response;
		},
		set() {
			return response;
		},
		send(body: string) {
			result.body = body;
			return response;
		},
	};
	const runIndexExpression = `{{ $node[${JSON.stringify(post.node)}].runIndex }}`;
	const log = (level: string) => (message: string, meta?: unknown) =>
		result.logs.push({ level, message, meta });
	const context = {
		getNode: () => node,
		getExecutionId: () => post.executionId,
		getNodeParameter: (name: string, fallback?: unknown) =>
			name in node.parameters ? node.parameters[name] : fallback,
		evaluateExpression: (expression: string, itemIndex: number) => {
			if (expression === '{{ $input.all().length }}') return items.length;
			if (expression === '{{ $json }}') return items[itemIndex];
			if (expression === runIndexExpression) return post.runIndex;
			throw new Error(`the fake webhook cannot evaluate ${expression}`);
		},
		getRequestObject: () => ({
			method: post.method ?? 'POST',
			headers: { 'content-length': '40' },
			originalUrl: `/webhook-waiting/${post.executionId}?signature=abc`,
		}),
		getResponseObject: () => response,
		getBodyData: () => post.body ?? { decision_0: 'approve' },
		getCredentials: async (type: string) => {
			const credential = post.credentials?.[type];
			if (!credential) throw new Error(`no credentials of type "${type}"`);
			return credential;
		},
		helpers: {},
		logger: { info: log('info'), debug: log('debug'), warn: log('warn'), error: log('error') },
	};
	return { context: context as unknown as IWebhookFunctions, result };
}
