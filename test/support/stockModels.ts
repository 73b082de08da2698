/**
 * n8n's own chat models (Anthropic Chat Model, OpenAI Chat Model) as the editor saves them,
 * and the credentials that point them and this package's nodes at the provider emulator:
 * what the benchmarks compare Resilient LLM and Resilient Chat Model with.
 */
import { randomUUID } from 'node:crypto';

import type { ProviderEmulator } from '../../lib/emulator/server';
import type { N8n } from '../harness/n8n';
import { splitItemsNode, webhookNode, workflow } from './workflows';
import type { CredentialRefs, WorkflowNode } from './workflows';

/** The two models every comparison uses: Anthropic first, OpenAI as the fallback. */
export const PRIMARY = { provider: 'anthropic', model: 'claude-haiku-4-5' } as const;
export const FALLBACK = { provider: 'openai', model: 'gpt-4o-mini' } as const;

type Ref = { id: string; name: string };

export interface StockCredentials {
	anthropic: Ref;
	openai: Ref;
}

export function anthropicChatModelNode(credential: Ref, position: [number, number]): WorkflowNode {
	return {
		id: randomUUID(),
		name: 'Anthropic Chat Model',
		type: '@n8n/n8n-nodes-langchain.lmChatAnthropic',
		typeVersion: 1.3,
		position,
		parameters: { model: { __rl: true, mode: 'id', value: PRIMARY.model }, options: {} },
		credentials: { anthropicApi: credential },
	};
}

/**
 * Options as n8n sets them, except the Responses API, which the emulator does not speak
 * (n8n's chat completions path, the one OpenAI-compatible servers use).
 */
export function openAiChatModelNode(credential: Ref, position: [number, number]): WorkflowNode {
	return {
		id: randomUUID(),
		name: 'OpenAI Chat Model',
		type: '@n8n/n8n-nodes-langchain.lmChatOpenAi',
		typeVersion: 1.3,
		position,
		parameters: {
			model: { __rl: true, mode: 'id', value: FALLBACK.model },
			responsesApiEnabled: false,
			options: {},
		},
		credentials: { openAiApi: credential },
	};
}

/**
 * `models` on `target`'s chat model inputs, in order: the first on Chat Model (Model), the
 * second on Fallback Model.
 */
export function withModels(
	base: Record<string, unknown>,
	target: string,
	models: WorkflowNode[],
): Record<string, unknown> {
	return {
		...base,
		nodes: [...(base.nodes as WorkflowNode[]), ...models],
		connections: {
			...(base.connections as Record<string, unknown>),
			...Object.fromEntries(
				models.map((model, index) => [
					model.name,
					{ ai_languageModel: [[{ node: target, type: 'ai_languageModel', index }]] },
				]),
			),
		},
	};
}

/**
 * Webhook -> Split Items -> n8n's Basic LLM Chain with Enable Fallback Model: the stock
 * Anthropic Chat Model on its Model input, the stock OpenAI Chat Model on Fallback Model.
 */
export function builtinWorkflow(
	path: string,
	credentials: StockCredentials,
): Record<string, unknown> {
	const chain: WorkflowNode = {
		id: randomUUID(),
		name: 'Basic LLM Chain',
		type: '@n8n/n8n-nodes-langchain.chainLlm',
		typeVersion: 1.9,
		position: [440, 0],
		parameters: { promptType: 'define', text: '={{ $json.text }}', needsFallback: true },
	};
	return withModels(
		workflow(`builtin ${path}`, [webhookNode(path), splitItemsNode(), chain]),
		chain.name,
		[
			anthropicChatModelNode(credentials.anthropic, [380, 220]),
			openAiChatModelNode(credentials.openai, [540, 220]),
		],
	);
}

/**
 * n8n's own Anthropic and OpenAI credentials and this package's, all holding `key` and the
 * emulator's URLs. A key of its own gives a comparison's circuits a fresh start.
 */
export async function comparisonCredentials(
	n8n: N8n,
	emulator: ProviderEmulator,
	key: string,
	label: string,
): Promise<{ stock: StockCredentials; ours: CredentialRefs }> {
	const create = async (name: string, type: string, data: Record<string, unknown>) => ({
		name,
		id: await n8n.createCredential(name, type, data),
	});
	const { anthropic, openai } = emulator.urls;
	return {
		stock: {
			anthropic: await create(`Anthropic (${label})`, 'anthropicApi', {
				apiKey: key,
				url: anthropic,
			}),
			openai: await create(`OpenAI (${label})`, 'openAiApi', { apiKey: key, url: openai }),
		},
		ours: {
			resilientLlmAnthropicApi: await create(
				`Resilient Anthropic (${label})`,
				'resilientLlmAnthropicApi',
				{ apiKey: key, baseUrl: anthropic },
			),
			resilientLlmOpenAiApi: await create(`Resilient OpenAI (${label})`, 'resilientLlmOpenAiApi', {
				apiKey: key,
				baseUrl: openai,
			}),
		},
	};
}
