/**
 * n8n's stock chat model nodes as the editor saves them, each with its own credential pointing
 * at the provider emulator, connected to the Model inputs of a Resilient LLM.
 */
import { randomUUID } from 'node:crypto';

import type { ProviderEmulator } from '../../lib/emulator/server';
import type { WireProvider } from '../../lib/emulator/wire';
import type { N8n } from '../harness/n8n';
import { KEYS } from './emulator';
import { withModels } from './stockModels';
import { llmNode, splitItemsNode, webhookNode, workflow } from './workflows';
import type { CredentialRefs, WorkflowNode } from './workflows';

export interface StockModel {
	/** The node's display name, and its name in the workflow. */
	name: string;
	type: string;
	typeVersion: number;
	credentialType: string;
	/** The credential's fields: the key and the field that sets its base URL. */
	credential: (emulator: ProviderEmulator) => Record<string, string>;
	/** The emulator wire it speaks, and the model the emulator counts its calls under. */
	wire: WireProvider;
	model: string;
	parameters: Record<string, unknown>;
}

const LC = '@n8n/n8n-nodes-langchain';
const openAiUrl = (field: string) => (emulator: ProviderEmulator) => ({
	apiKey: KEYS.openai,
	[field]: emulator.urls.openai,
});

/** Models of their own, so each node's calls are counted apart on a shared wire. */
export const STOCK_MODELS: StockModel[] = [
	{
		name: 'OpenAI Chat Model',
		type: `${LC}.lmChatOpenAi`,
		typeVersion: 1.3,
		credentialType: 'openAiApi',
		credential: openAiUrl('url'),
		wire: 'openai',
		model: 'gpt-4o-mini',
		// The emulator speaks chat completions, not the Responses API.
		parameters: {
			model: { __rl: true, mode: 'id', value: 'gpt-4o-mini' },
			responsesApiEnabled: false,
			options: {},
		},
	},
	{
		name: 'Anthropic Chat Model',
		type: `${LC}.lmChatAnthropic`,
		typeVersion: 1.3,
		credentialType: 'anthropicApi',
		credential: (emulator) => ({ apiKey: KEYS.anthropic, url: emulator.urls.anthropic }),
		wire: 'anthropic',
		model: 'claude-haiku-4-5',
		parameters: { model: { __rl: true, mode: 'id', value: 'claude-haiku-4-5' }, options: {} },
	},
	{
		name: 'Google Gemini Chat Model',
		type: `${LC}.lmChatGoogleGemini`,
		typeVersion: 1.2,
		credentialType: 'googlePalmApi',
		credential: (emulator) => ({ apiKey: KEYS.gemini, host: emulator.urls.gemini }),
		wire: 'gemini',
		model: 'gemini-2.5-flash',
		parameters: { modelName: 'models/gemini-2.5-flash', options: {} },
	},
	{
		name: 'Ollama Chat Model',
		type: `${LC}.lmChatOllama`,
		typeVersion: 1,
		credentialType: 'ollamaApi',
		credential: (emulator) => ({ apiKey: KEYS.ollama, baseUrl: emulator.urls.ollama }),
		wire: 'ollama',
		model: 'llama3.2',
		parameters: { model: 'llama3.2', options: {} },
	},
	{
		name: 'NVIDIA Nemotron Chat Model',
		type: `${LC}.lmChatNvidia`,
		typeVersion: 1,
		credentialType: 'nvidiaApi',
		credential: openAiUrl('url'),
		wire: 'openai',
		model: 'nemotron-emulated',
		parameters: { model: 'nemotron-emulated', options: {} },
	},
	{
		name: 'Vercel AI Gateway Chat Model',
		type: `${LC}.lmChatVercelAiGateway`,
		typeVersion: 1,
		credentialType: 'vercelAiGatewayApi',
		credential: openAiUrl('url'),
		wire: 'openai',
		model: 'vercel-emulated',
		parameters: { model: 'vercel-emulated', options: {} },
	},
	{
		name: 'Lemonade Chat Model',
		type: `${LC}.lmChatLemonade`,
		typeVersion: 1,
		credentialType: 'lemonadeApi',
		credential: openAiUrl('baseUrl'),
		wire: 'openai',
		model: 'lemonade-emulated',
		parameters: { model: 'lemonade-emulated', options: {} },
	},
	{
		// No URL field: n8n's process gets GROQ_BASE_URL (see groqEnv).
		name: 'Groq Chat Model',
		type: `${LC}.lmChatGroq`,
		typeVersion: 1,
		credentialType: 'groqApi',
		credential: () => ({ apiKey: KEYS.openai }),
		wire: 'openai',
		model: 'groq-emulated',
		parameters: { model: 'groq-emulated', options: {} },
	},
];

export function stockModel(name: string): StockModel {
	const model = STOCK_MODELS.find((m) => m.name === name);
	if (!model) throw new Error(`no stock model ${name}`);
	return model;
}

/** Groq's SDK reads its base URL from the environment; it adds `/openai/v1/...` itself. */
export function groqEnv(emulator: ProviderEmulator): { env: Record<string, string> } {
	return { env: { GROQ_BASE_URL: emulator.baseUrl } };
}

/** The stock node, with a credential of its own type pointing at the emulator. */
export async function stockModelNode(
	n8n: N8n,
	emulator: ProviderEmulator,
	model: StockModel,
	position: [number, number] = [440, 220],
): Promise<WorkflowNode> {
	const credentialName = `${model.name} (emulator)`;
	const id = await n8n.createCredential(
		credentialName,
		model.credentialType,
		model.credential(emulator),
	);
	return {
		id: randomUUID(),
		name: model.name,
		type: model.type,
		typeVersion: model.typeVersion,
		position,
		parameters: model.parameters,
		credentials: { [model.credentialType]: { id, name: credentialName } },
	};
}

/**
 * Webhook -> Split Items -> Resilient LLM with one Model input per node in `models`, in
 * order: the first on Model 1.
 */
export function connectedWorkflow(
	path: string,
	parameters: Record<string, unknown>,
	credentials: CredentialRefs,
	models: WorkflowNode[],
	connectedModels = models.length,
): Record<string, unknown> {
	const llm = llmNode({ ...parameters, connectedModels }, credentials);
	return withModels(
		workflow(`connected ${path}`, [webhookNode(path), splitItemsNode(), llm]),
		llm.name,
		models,
	);
}

/** A Model Chain tier calling the chat model on Model input `input`. */
export function connectedTier(input: number, attempts = 3): Record<string, unknown> {
	return { provider: 'connected', connectedModel: input, attempts, timeoutSeconds: 20 };
}
