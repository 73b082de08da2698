/**
 * Streaming chat in n8n as the editor saves it: a Webhook whose Respond is "Streaming", an AI
 * Agent with Enable Streaming on and no tools, and the chat model(s) given on its model
 * inputs, for a client that reads the reply as n8n sends it (streamingClient.ts).
 */
import { randomUUID } from 'node:crypto';

import { AGENT_TYPE } from './agentWorkflows';
import { withModels } from './stockModels';
import { webhookNode } from './workflows';
import type { WorkflowNode } from './workflows';

export const STREAM_SYSTEM_MESSAGE = 'You are a support agent. Answer the customer in full.';

/**
 * Webhook (`{message}`, streaming) -> AI Agent with `models` on its inputs: one on Chat Model,
 * or two with Enable Fallback Model on (the second on Fallback Model).
 */
export function streamingAgentWorkflow(
	name: string,
	path: string,
	models: WorkflowNode[],
): Record<string, unknown> {
	const webhook = webhookNode(path, 'streaming');
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
