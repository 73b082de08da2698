/**
 * Streaming chat in n8n as the editor saves it: a Webhook whose Respond is "Streaming", an AI
 * Agent with Enable Streaming on and no tools, and the chat model(s) given on its model
 * inputs. The client reads the reply as n8n sends it, one JSON object a line.
 */
import { randomUUID } from 'node:crypto';

import { AGENT_TYPE } from './agentWorkflows';
import { withModels } from './stockModels';
import type { WorkflowNode } from './workflows';

export const STREAM_SYSTEM_MESSAGE = 'You are a support agent. Answer the customer in full.';

/** A Webhook (v2.1) that answers with what streaming nodes send, as they send it. */
export function streamingWebhookNode(path: string): WorkflowNode {
	return {
		id: randomUUID(),
		name: 'Webhook',
		type: 'n8n-nodes-base.webhook',
		typeVersion: 2.1,
		position: [0, 0],
		webhookId: randomUUID(),
		parameters: { httpMethod: 'POST', path, responseMode: 'streaming', options: {} },
	};
}

/**
 * Webhook (`{message}`, streaming) -> AI Agent with `models` on its inputs: one on Chat Model,
 * or two with Enable Fallback Model on (the second on Fallback Model).
 */
export function streamingAgentWorkflow(
	name: string,
	path: string,
	models: WorkflowNode[],
): Record<string, unknown> {
	const webhook = streamingWebhookNode(path);
	const agent: WorkflowNode = {
		id: randomUUID(),
		name: 'AI Agent',
		type: AGENT_TYPE,
		typeVersion: 3.1,
		position: [300, 0],
		parameters: {
			promptType: 'define',
			text: '={{ $json.body.message }}',
			needsFallback: models.length > 1,
			options: { systemMessage: STREAM_SYSTEM_MESSAGE, enableStreaming: true },
		},
	};
	models.forEach((model, index) => (model.position = [240 + 160 * index, 220]));
	return withModels(
		{
			name,
			nodes: [webhook, agent],
			connections: { [webhook.name]: { main: [[{ node: agent.name, type: 'main', index: 0 }]] } },
		},
		agent.name,
		models,
	);
}
