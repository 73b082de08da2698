/**
 * Stand-ins for n8n's IWebhookFunctions and IExecuteFunctions as the Human Review node sees
 * them: the waiting node, its input items, which run of the node is waiting (what
 * `$node[…].runIndex` gives in n8n while it waits), and the review link it was given.
 */
import { randomBytes } from 'node:crypto';

import type {
	IBinaryKeyData,
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteFunctions,
	INode,
	INodeExecutionData,
	IWebhookFunctions,
} from 'n8n-workflow';

export interface Posted {
	status: number;
	body: string;
	headers: Record<string, string>;
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
	/** Files of the input items, by item. */
	binaries?: Array<IBinaryKeyData | undefined>;
	body?: IDataObject;
	options?: IDataObject;
	credentials?: Record<string, ICredentialDataDecryptedObject>;
	/**
	 * The review token in the request's link: the wait's own unless told otherwise; null for
	 * none (the bare signed link of the execution).
	 */
	token?: string | null;
	/** What expressions the fake does not know evaluate to, by their text. */
	expressions?: Record<string, unknown>;
}

/** Each wait's review token, as the Human Review Link node before it would have made it. */
const tokens = new Map<string, string>();
export function tokenOf(wait: Pick<ReviewPost, 'executionId' | 'node' | 'runIndex'>): string {
	const key = JSON.stringify([wait.executionId, wait.node, wait.runIndex]);
	let token = tokens.get(key);
	if (!token) tokens.set(key, (token = randomBytes(24).toString('base64url')));
	return token;
}

/** The link a wait's reviewer is sent: the execution's signed link and the wait's token. */
export function linkOf(wait: Pick<ReviewPost, 'executionId' | 'node' | 'runIndex'>): string {
	return `http://127.0.0.1:5678/webhook-waiting/${wait.executionId}?signature=abc&review=${tokenOf(wait)}`;
}

const REVIEW_PARAMETERS = {
	title: 'Refund',
	details: '',
	prompt: 'Decide the refund',
	draftAnswer: 'Approve the refund.',
	reason: 'High stakes',
};

/** Resolves `=…` strings the way n8n hands parameters to a node, nested objects included. */
function resolver(evaluate: (expression: string, itemIndex: number) => unknown) {
	const resolve = (value: unknown, itemIndex: number): unknown => {
		if (typeof value === 'string' && value.startsWith('='))
			return evaluate(value.slice(1), itemIndex);
		if (value && typeof value === 'object' && !Array.isArray(value))
			return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, itemIndex)]));
		return value;
	};
	return resolve;
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
			...REVIEW_PARAMETERS,
			reviewLink: linkOf(post),
			options: (post.options ?? {}) as INode['parameters'][string],
		},
	};
	const result: Omit<Posted, 'workflowData'> = { status: 0, body: '', headers: {}, logs: [] };
	const response = {
		status(code: number) {
			result.status = code;
			return response;
		},
		set(headers: Record<string, string>) {
			Object.assign(result.headers, headers);
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
	const evaluateExpression = (expression: string, itemIndex: number) => {
		if (expression === '{{ $input.all().length }}') return items.length;
		if (expression === '{{ $json }}') return items[itemIndex];
		if (expression === '{{ $input.item }}')
			return {
				json: items[itemIndex],
				...(post.binaries?.[itemIndex] ? { binary: post.binaries[itemIndex] } : {}),
			};
		if (expression === runIndexExpression) return post.runIndex;
		if (post.expressions && expression in post.expressions) return post.expressions[expression];
		throw new Error(`the fake webhook cannot evaluate ${expression}`);
	};
	const resolve = resolver(evaluateExpression);
	const token = post.token === undefined ? tokenOf(post) : post.token;
	const query = `?signature=abc${token === null ? '' : `&review=${encodeURIComponent(token)}`}`;
	const context = {
		getNode: () => node,
		getExecutionId: () => post.executionId,
		getNodeParameter: (name: string, fallback?: unknown) =>
			name in node.parameters ? resolve(node.parameters[name], 0) : fallback,
		evaluateExpression,
		getRequestObject: () => ({
			method: post.method ?? 'POST',
			headers: { 'content-length': '40' },
			originalUrl: `/webhook-waiting/${post.executionId}${query}`,
		}),
		getQueryData: () => Object.fromEntries(new URLSearchParams(query)),
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

export interface ReviewRun {
	items?: INodeExecutionData[];
	/** The node's parameters on top of the defaults of the fake. */
	parameters?: IDataObject;
	/** What expressions evaluate to, by their text (without the leading `=`), per item. */
	expressions?: Record<string, unknown[]>;
}

/** The Human Review as n8n runs it when items arrive: it checks its settings and waits. */
export function fakeExecution(run: ReviewRun): {
	context: IExecuteFunctions;
	waited: () => Date | undefined;
} {
	const items = run.items ?? [{ json: { prompt: 'Refund R-1?' } }];
	const node: INode = {
		id: 'id-review',
		name: 'Human Review',
		type: 'n8n-nodes-resilient-llm.humanReview',
		typeVersion: 1,
		position: [0, 0],
		parameters: {
			...REVIEW_PARAMETERS,
			options: {},
			...(run.parameters ?? {}),
		} as INode['parameters'],
	};
	let waitTill: Date | undefined;
	const evaluate = (expression: string, itemIndex: number) => {
		const values = run.expressions?.[expression];
		if (!values) throw new Error(`the fake execution cannot evaluate ${expression}`);
		return values[itemIndex];
	};
	const resolve = resolver(evaluate);
	const context = {
		getNode: () => node,
		getInputData: () => items,
		getNodeParameter: (path: string, itemIndex: number, fallback?: unknown) => {
			let value: unknown = node.parameters;
			for (const key of path.split('.')) value = (value as IDataObject | undefined)?.[key];
			return value === undefined ? fallback : resolve(value, itemIndex);
		},
		evaluateExpression: evaluate,
		setMetadata: () => {},
		putExecutionToWait: async (date: Date) => {
			waitTill = date;
		},
	};
	return { context: context as unknown as IExecuteFunctions, waited: () => waitTill };
}
