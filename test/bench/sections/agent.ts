/** An AI Agent's two-tool task on Resilient Chat Model in a real n8n, primary up against primary down. */
import { N8n } from '../../harness/n8n';
import { agentWorkflow, TOOL_NAMES } from '../../support/agentWorkflows';
import { OrderService } from '../../support/orderService';
import type { CredentialRefs } from '../../support/workflows';
import { figures, KEY, median, progress, QUIET_N8N, round, rows } from '../report';
import type { SectionContext } from '../report';

/**
 * The AI Agent's two-tool support task in a real n8n, Resilient Chat Model with the breaker
 * on: Anthropic then OpenAI. Two workflows differ only in the primary's model; the emulator
 * takes one of the two models down for good, so rounds of the two can interleave while that
 * model's circuit stays open (a long cool-down).
 */
export async function agentOutage({ emulator, profile }: SectionContext): Promise<void> {
	const latencyMs = 100;
	const downModel = 'claude-sonnet-4-5';
	const upModel = 'claude-haiku-4-5';
	emulator.loadScenario({
		profile,
		latencyMs,
		turns: [
			{ toolCalls: [{ name: TOOL_NAMES.lookup, arguments: { orderId: '42' } }] },
			{ toolCalls: [{ name: TOOL_NAMES.refund, arguments: { orderId: '42', reason: 'late' } }] },
			{ reply: 'Refund requested.' },
		],
		rules: [{ provider: 'anthropic', model: downModel, fault: 'overloaded' }],
	});
	progress(`agent: starting a real n8n (installs it once if missing); ${profile} profile`);
	const n8n = await N8n.start(QUIET_N8N);
	const orders = new OrderService();
	await orders.start();
	try {
		const credentials: CredentialRefs = {};
		for (const [type, provider] of [
			['resilientLlmAnthropicApi', 'anthropic'],
			['resilientLlmOpenAiApi', 'openai'],
		] as const) {
			const name = `Emulator ${provider}`;
			const id = await n8n.createCredential(name, type, {
				apiKey: KEY,
				baseUrl: emulator.urls[provider],
			});
			credentials[type] = { id, name };
		}
		const chatModel = (primary: string) => ({
			chain: {
				tiers: [
					{ provider: 'anthropic', model: primary, attempts: 3, timeoutSeconds: 30 },
					{ provider: 'openai', model: 'gpt-4o-mini', attempts: 3, timeoutSeconds: 30 },
				],
			},
			criticality: 'standard',
			options: {
				circuitBreaker: true,
				breakerThreshold: 3,
				breakerCooldownSeconds: 3600,
				breakerFailureRatePercent: 0,
				recordMetrics: false,
				deadlineSeconds: 60,
			},
		});
		for (const [path, primary] of [
			['bench-agent-up', upModel],
			['bench-agent-down', downModel],
		]) {
			await n8n.createWorkflow(
				agentWorkflow({
					name: path,
					path,
					chatModel: chatModel(primary),
					credentials,
					orderServiceUrl: orders.baseUrl,
				}),
			);
		}
		const conversation = async (path: string): Promise<number> => {
			const started = performance.now();
			const response = await n8n.webhook(path, { message: 'Order 42 came late, refund it.' });
			const body = JSON.stringify(response.body);
			if (response.status !== 200 || !body.includes('Refund requested.'))
				throw new Error(`agent ${path}: ${response.status} ${body}`);
			return (performance.now() - started) / 1000;
		};
		progress(
			"agent: warm-up (opens the down primary's circuit), then 4 interleaved rounds of 5 each",
		);
		for (let i = 0; i < 2; i++) {
			await conversation('bench-agent-up');
			await conversation('bench-agent-down');
		}
		const up: number[] = [];
		const down: number[] = [];
		for (let round = 0; round < 4; round++) {
			for (let i = 0; i < 5; i++) up.push(await conversation('bench-agent-up'));
			for (let i = 0; i < 5; i++) down.push(await conversation('bench-agent-down'));
		}
		figures.agent_up_s = round(median(up));
		figures.agent_down_breaker_open_s = round(median(down));
		figures.agent_outage_ratio = round(figures.agent_down_breaker_open_s / figures.agent_up_s, 2);
		rows.push([
			'agent_up_s (AI Agent, 2 tools, 3 model calls)',
			`${figures.agent_up_s} s`,
			`median of ${up.length}, ${latencyMs} ms per model call`,
		]);
		rows.push([
			'agent_down_breaker_open_s (primary 529, circuit open)',
			`${figures.agent_down_breaker_open_s} s`,
			`median of ${down.length}`,
		]);
		rows.push(['agent_outage_ratio', `${figures.agent_outage_ratio}`, 'target <= 1.3']);
	} finally {
		await orders.stop();
		await n8n.dispose();
	}
}
