/** Webhook executions per second in a real n8n: Resilient LLM against the stock HTTP Request node. */
import { N8n } from '../../harness/n8n';
import { webhookNode, workflow } from '../../support/workflows';
import { createLlmWorkflow, fire } from '../webhookLoad';
import { figures, KEY, mean, progress, QUIET_N8N, round, rows } from '../report';
import type { SectionContext } from '../report';

export async function n8nThroughput({ emulator, profile }: SectionContext): Promise<void> {
	emulator.loadScenario({ profile });
	progress(`n8n: starting a real n8n (installs it once if missing); ${profile} profile`);
	const n8n = await N8n.start(QUIET_N8N);
	try {
		await createLlmWorkflow(n8n, emulator, 'bench-node');
		const http = {
			id: 'http-request',
			name: 'HTTP Request',
			type: 'n8n-nodes-base.httpRequest',
			typeVersion: 4.2,
			position: [220, 0] as [number, number],
			parameters: {
				method: 'POST',
				url: `${emulator.urls.openai}/chat/completions`,
				sendHeaders: true,
				headerParameters: { parameters: [{ name: 'Authorization', value: `Bearer ${KEY}` }] },
				sendBody: true,
				specifyBody: 'json',
				jsonBody:
					'={{ JSON.stringify({ model: "gpt-4o-mini", max_completion_tokens: 1024, messages: [{ role: "user", content: $json.body.text }] }) }}',
				options: {},
			},
		};
		await n8n.createWorkflow(workflow('bench http', [webhookNode('bench-http'), http]));
		progress('n8n: warm-up, then 4 interleaved rounds of 150 executions each way, 8 at a time');
		await fire(n8n, 'bench-node', 50, 8);
		await fire(n8n, 'bench-http', 50, 8);
		const node: number[] = [];
		const httpRates: number[] = [];
		for (let round = 0; round < 4; round++) {
			node.push(await fire(n8n, 'bench-node', 150, 8));
			httpRates.push(await fire(n8n, 'bench-http', 150, 8));
		}
		figures.n8n_exec_per_s_node = round(mean(node), 1);
		figures.n8n_exec_per_s_http = round(mean(httpRates), 1);
		rows.push([
			'n8n_exec_per_s_node (webhook -> Resilient LLM)',
			`${figures.n8n_exec_per_s_node}/s`,
			`rounds: ${node.map((r) => round(r, 0)).join(', ')}`,
		]);
		rows.push([
			'n8n_exec_per_s_http (webhook -> HTTP Request)',
			`${figures.n8n_exec_per_s_http}/s`,
			`rounds: ${httpRates.map((r) => round(r, 0)).join(', ')}`,
		]);
		rows.push([
			'node / http ratio',
			`${round(figures.n8n_exec_per_s_node / figures.n8n_exec_per_s_http, 2)}`,
			'target >= 0.95',
		]);
	} finally {
		await n8n.dispose();
	}
}
