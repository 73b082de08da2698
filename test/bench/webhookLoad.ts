/** Load for the n8n throughput figures: a webhook workflow with Resilient LLM, and calls fired at it. */
import type { ProviderEmulator } from '../../lib/emulator/server';
import type { N8n } from '../harness/n8n';
import { llmNode, webhookNode, workflow } from '../support/workflows';
import type { CredentialRefs } from '../support/workflows';
import { KEY } from './report';

/** Sends `total` webhook calls, `parallel` at a time; returns executions per second. */
export async function fire(
	n8n: N8n,
	path: string,
	total: number,
	parallel: number,
): Promise<number> {
	let sent = 0;
	const started = performance.now();
	const client = async () => {
		while (sent < total) {
			sent++;
			const response = await n8n.webhook(
				path,
				{ text: 'Summarise: the parcel arrived late.' },
				120_000,
			);
			if (response.status !== 200)
				throw new Error(`webhook ${path}: ${response.status} ${JSON.stringify(response.body)}`);
		}
	};
	await Promise.all(Array.from({ length: parallel }, client));
	return total / ((performance.now() - started) / 1000);
}

/** Webhook -> Resilient LLM with one OpenAI tier at the emulator, as the n8n figures run it. */
export async function createLlmWorkflow(
	n8n: N8n,
	emulator: ProviderEmulator,
	path: string,
	options: Record<string, unknown> = {},
	credentials: CredentialRefs = {},
): Promise<void> {
	const name = 'Emulator OpenAI';
	const id = await n8n.createCredential(name, 'resilientLlmOpenAiApi', {
		apiKey: KEY,
		baseUrl: emulator.urls.openai,
	});
	const llm = llmNode(
		{
			prompt: '={{ $json.body.text }}',
			chain: {
				tiers: [{ provider: 'openai', model: 'gpt-4o-mini', attempts: 3, timeoutSeconds: 30 }],
			},
			options,
		},
		{ resilientLlmOpenAiApi: { id, name }, ...credentials },
	);
	llm.position = [220, 0];
	await n8n.createWorkflow(workflow(path, [webhookNode(path), llm]));
}
