/**
 * Workflow JSON for the chat model tests, as the n8n editor saves it: a webhook, an AI Agent
 * (or a Basic LLM Chain) with Resilient Chat Model on its Chat Model input, and two HTTP
 * Request tools against the fake order service.
 */
import { randomUUID } from 'node:crypto';

import type { CredentialRefs, WorkflowNode } from './workflows';
import { webhookNode } from './workflows';

export const CHAT_MODEL_TYPE = 'n8n-nodes-resilient-llm.resilientChatModel';
export const AGENT_TYPE = '@n8n/n8n-nodes-langchain.agent';
export const CHAIN_TYPE = '@n8n/n8n-nodes-langchain.chainLlm';

/** Resilient Chat Model's parameters, options set explicitly: their defaults are not what the tests are about. */
export function chatModelParameters(
	tiers: Array<Record<string, unknown>>,
	options: Record<string, unknown> = {},
): Record<string, unknown> {
	return {
		chain: { tiers },
		criticality: 'standard',
		options: {
			initialBackoffMs: 20,
			deadlineSeconds: 60,
			circuitBreaker: false,
			recordMetrics: false,
			...options,
		},
	};
}

/** The tool names the model sees: n8n names a tool after its node, spaces as underscores. */
export const TOOL_NAMES = { lookup: 'Order_Lookup', refund: 'Refund_Request' } as const;

export function chatModelNode(
	parameters: Record<string, unknown>,
	credentials: CredentialRefs,
): WorkflowNode {
	return {
		id: randomUUID(),
		name: 'Resilient Chat Model',
		type: CHAT_MODEL_TYPE,
		typeVersion: 1,
		position: [300, 220],
		parameters,
		credentials,
	};
}

function httpTool(
	name: string,
	description: string,
	url: string,
	method: 'GET' | 'POST',
	position: [number, number],
): WorkflowNode {
	return {
		id: randomUUID(),
		name,
		type: 'n8n-nodes-base.httpRequestTool',
		typeVersion: 4.2,
		position,
		parameters: { toolDescription: description, method, url, options: {} },
	};
}

export function orderTools(baseUrl: string): WorkflowNode[] {
	return [
		httpTool(
			'Order Lookup',
			'Looks up an order by its number: status and total',
			`=${baseUrl}/orders/{{ $fromAI('orderId', 'The order number', 'string') }}`,
			'GET',
			[460, 220],
		),
		httpTool(
			'Refund Request',
			'Requests a refund for an order',
			`=${baseUrl}/refunds?orderId={{ $fromAI('orderId', 'The order number', 'string') }}&reason={{ encodeURIComponent($fromAI('reason', 'Why the customer wants a refund', 'string')) }}`,
			'POST',
			[620, 220],
		),
	];
}

/**
 * n8n's Code Tool with an input schema typed in by hand, as `workflows/support-agent.json`
 * has it: n8n turns that JSON Schema into a Zod schema with its own zod.
 */
export function codeTool(
	name: string,
	description: string,
	jsCode: string,
	inputSchema: Record<string, unknown>,
	position: [number, number],
): WorkflowNode {
	return {
		id: randomUUID(),
		name,
		type: '@n8n/n8n-nodes-langchain.toolCode',
		typeVersion: 1.3,
		position,
		parameters: {
			description,
			language: 'javaScript',
			jsCode,
			specifyInputSchema: true,
			schemaType: 'manual',
			inputSchema: JSON.stringify(inputSchema, null, 2),
		},
	};
}

export interface AgentWorkflowOptions {
	name: string;
	path: string;
	chatModel: Record<string, unknown>;
	credentials: CredentialRefs;
	/** The two HTTP Request tools against this order service, unless `tools` are given. */
	orderServiceUrl?: string;
	tools?: WorkflowNode[];
	/** The agent's On Error setting; with continueErrorOutput its error output goes to "Escalate". */
	onError?: 'stopWorkflow' | 'continueErrorOutput' | 'continueRegularOutput';
	/** The webhook answers in Response Mode "Streaming", and the agent streams (Enable Streaming). */
	streaming?: boolean;
}

function toolsOf(options: AgentWorkflowOptions): WorkflowNode[] {
	if (options.tools) return options.tools;
	if (!options.orderServiceUrl)
		throw new Error('agentWorkflow: give the tools or the order service URL');
	return orderTools(options.orderServiceUrl);
}

/** Webhook (`{message}`) → AI Agent with Resilient Chat Model and its tools (the two order tools unless told). */
export function agentWorkflow(options: AgentWorkflowOptions): Record<string, unknown> {
	const webhook = webhookNode(options.path, options.streaming ? 'streaming' : 'lastNode');
	const agent: WorkflowNode = {
		id: randomUUID(),
		name: 'AI Agent',
		type: AGENT_TYPE,
		typeVersion: 3.1,
		position: [300, 0],
		parameters: {
			promptType: 'define',
			text: '={{ $json.body.message }}',
			options: {
				systemMessage: 'You are a support agent. Look the order up before you request a refund.',
				...(options.streaming ? { enableStreaming: true } : {}),
			},
		},
		...(options.onError ? { onError: options.onError } : {}),
	};
	const escalate: WorkflowNode = {
		id: randomUUID(),
		name: 'Escalate',
		type: 'n8n-nodes-base.noOp',
		typeVersion: 1,
		position: [560, 100],
		parameters: {},
	};
	const done: WorkflowNode = {
		id: randomUUID(),
		name: 'Answered',
		type: 'n8n-nodes-base.noOp',
		typeVersion: 1,
		position: [560, -100],
		parameters: {},
	};
	const model = chatModelNode(options.chatModel, options.credentials);
	const tools = toolsOf(options);
	const routed = options.onError === 'continueErrorOutput';
	return {
		name: options.name,
		nodes: [webhook, agent, done, ...(routed ? [escalate] : []), model, ...tools],
		connections: {
			[webhook.name]: { main: [[{ node: agent.name, type: 'main', index: 0 }]] },
			[agent.name]: {
				main: [
					[{ node: done.name, type: 'main', index: 0 }],
					...(routed ? [[{ node: escalate.name, type: 'main', index: 0 }]] : []),
				],
			},
			[model.name]: {
				ai_languageModel: [[{ node: agent.name, type: 'ai_languageModel', index: 0 }]],
			},
			...Object.fromEntries(
				tools.map((tool) => [
					tool.name,
					{ ai_tool: [[{ node: agent.name, type: 'ai_tool', index: 0 }]] },
				]),
			),
		},
	};
}

/** Webhook (`{message}`) → Basic LLM Chain with Resilient Chat Model. */
export function chainWorkflow(
	name: string,
	path: string,
	chatModel: Record<string, unknown>,
	credentials: CredentialRefs,
): Record<string, unknown> {
	const webhook = webhookNode(path);
	const chain: WorkflowNode = {
		id: randomUUID(),
		name: 'Basic LLM Chain',
		type: CHAIN_TYPE,
		typeVersion: 1.9,
		position: [300, 0],
		parameters: { promptType: 'define', text: '={{ $json.body.message }}' },
	};
	const model = chatModelNode(chatModel, credentials);
	return {
		name,
		nodes: [webhook, chain, model],
		connections: {
			[webhook.name]: { main: [[{ node: chain.name, type: 'main', index: 0 }]] },
			[model.name]: {
				ai_languageModel: [[{ node: chain.name, type: 'ai_languageModel', index: 0 }]],
			},
		},
	};
}
