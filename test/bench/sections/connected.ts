/**
 * n8n's own chat model nodes as tiers. The overhead of calling a stock OpenAI Chat Model
 * through Resilient LLM's chain instead of directly from n8n's Basic LLM Chain; and the
 * built-in outage comparison where both sides use the same two stock nodes: n8n's chain with
 * Enable Fallback Model, and Resilient LLM with those nodes on its Model inputs as tiers 1, 2.
 */
import { randomUUID } from 'node:crypto';

import type { Rule } from '../../../lib/emulator/scenario';
import type { ProviderEmulator } from '../../../lib/emulator/server';
import { N8n } from '../../harness/n8n';
import {
	anthropicChatModelNode,
	builtinWorkflow,
	comparisonCredentials,
	FALLBACK,
	openAiChatModelNode,
	PRIMARY,
	withModels,
} from '../../support/stockModels';
import type { StockCredentials } from '../../support/stockModels';
import { llmNode, splitItemsNode, webhookNode, workflow } from '../../support/workflows';
import type { WorkflowNode } from '../../support/workflows';
import { figures, KEY, median, progress, QUIET_N8N, round, rows } from '../report';

const OVERHEAD_ROUNDS = 60;
const OVERHEAD_WARMUP = 10;
const OUTAGE_EXECUTIONS = 10;
const ITEMS = 5;

/** Resilient LLM, default options, its tiers the stock nodes on its Model inputs in order. */
function oursWorkflow(path: string, models: WorkflowNode[]): Record<string, unknown> {
	const llm = llmNode(
		{
			prompt: '={{ $json.text }}',
			connectedModels: models.length,
			chain: {
				tiers: models.map((_, i) => ({ provider: 'connected', connectedModel: i + 1 })),
			},
			options: {},
		},
		{},
	);
	return withModels(
		workflow(`ours ${path}`, [webhookNode(path), splitItemsNode(), llm]),
		llm.name,
		models,
	);
}

/** n8n's Basic LLM Chain on one stock model: the same node called directly. */
function directWorkflow(path: string, model: WorkflowNode): Record<string, unknown> {
	const chain: WorkflowNode = {
		id: randomUUID(),
		name: 'Basic LLM Chain',
		type: '@n8n/n8n-nodes-langchain.chainLlm',
		typeVersion: 1.9,
		position: [440, 0],
		parameters: { promptType: 'define', text: '={{ $json.text }}' },
	};
	return withModels(
		workflow(`direct ${path}`, [webhookNode(path), splitItemsNode(), chain]),
		chain.name,
		[model],
	);
}

async function timed(n8n: N8n, path: string, items: { text: string }[]): Promise<number> {
	const started = performance.now();
	const response = await n8n.webhook(path, { items }, 120_000);
	const ms = performance.now() - started;
	const outputs = (Array.isArray(response.body) ? response.body : [response.body]) as {
		text?: unknown;
	}[];
	if (
		response.status !== 200 ||
		outputs.filter((o) => typeof o.text === 'string').length !== items.length
	)
		throw new Error(
			`webhook ${path}: ${response.status} ${JSON.stringify(response.body).slice(0, 300)}`,
		);
	return ms;
}

/** One item per execution, the two sides interleaved: the difference of their medians. */
async function overhead(
	n8n: N8n,
	emulator: ProviderEmulator,
	stock: StockCredentials,
): Promise<void> {
	await n8n.createWorkflow(
		directWorkflow('connected-direct', openAiChatModelNode(stock.openai, [440, 220])),
	);
	await n8n.createWorkflow(
		oursWorkflow('connected-ours', [openAiChatModelNode(stock.openai, [440, 220])]),
	);
	emulator.loadScenario({});
	const ms = { direct: [] as number[], ours: [] as number[] };
	for (let round = 0; round < OVERHEAD_WARMUP + OVERHEAD_ROUNDS; round++) {
		const order = round % 2 ? (['ours', 'direct'] as const) : (['direct', 'ours'] as const);
		for (const side of order) {
			const took = await timed(n8n, `connected-${side}`, [{ text: `Summarise ticket ${round}.` }]);
			if (round >= OVERHEAD_WARMUP) ms[side].push(took);
		}
	}
	const [direct, ours] = [median(ms.direct), median(ms.ours)];
	figures.connected_overhead_ms_median = round(ours - direct, 2);
	rows.push([
		'connected_overhead_ms_median',
		`${round(ours - direct, 2)} ms`,
		`median execution ${round(ours, 2)} ms through Resilient LLM vs ${round(direct, 2)} ms from Basic LLM Chain, same stock OpenAI Chat Model, ${OVERHEAD_ROUNDS} each; target <= 1 ms`,
	]);
}

/** Executions of 5 items with the primary down; ms per item over the later ones. */
async function outageSide(n8n: N8n, emulator: ProviderEmulator, path: string, rules: Rule[]) {
	emulator.loadScenario({ rules });
	emulator.resetCounts();
	const ms: number[] = [];
	for (let execution = 0; execution < OUTAGE_EXECUTIONS; execution++) {
		const items = Array.from({ length: ITEMS }, (_, i) => ({
			text: `Summarise ticket ${execution * ITEMS + i}: the parcel arrived late.`,
		}));
		ms.push(await timed(n8n, path, items));
	}
	return {
		msPerItem: median(ms.slice(2)) / ITEMS,
		primaryCalls: emulator.count(PRIMARY.provider, PRIMARY.model),
		fallbackCalls: emulator.count(FALLBACK.provider, FALLBACK.model),
	};
}

async function outage(
	n8n: N8n,
	emulator: ProviderEmulator,
	stock: StockCredentials,
): Promise<void> {
	await n8n.createWorkflow(builtinWorkflow('connected-outage-builtin', stock));
	await n8n.createWorkflow(
		oursWorkflow('connected-outage-ours', [
			anthropicChatModelNode(stock.anthropic, [380, 220]),
			openAiChatModelNode(stock.openai, [540, 220]),
		]),
	);
	const rules: Rule[] = [{ provider: PRIMARY.provider, fault: 'overloaded' }];
	for (const side of ['builtin', 'ours'] as const) {
		progress(
			`connected: outage, ${side === 'ours' ? 'Resilient LLM over the stock nodes' : "n8n's chain with fallback"}`,
		);
		const f = await outageSide(n8n, emulator, `connected-outage-${side}`, rules);
		figures[`${side}_connected_outage_ms_per_item`] = round(f.msPerItem, 2);
		rows.push([
			`${side}_connected_outage_ms_per_item`,
			`${round(f.msPerItem, 2)} ms/item`,
			`${side === 'ours' ? 'Resilient LLM, defaults, tiers: the stock Anthropic then OpenAI Chat Model' : "n8n's Basic LLM Chain with Enable Fallback Model, the same two nodes"}; calls: ${f.primaryCalls} primary, ${f.fallbackCalls} fallback`,
		]);
	}
}

export async function connectedModels({ emulator }: { emulator: ProviderEmulator }): Promise<void> {
	progress('connected: starting a real n8n (installs it once if missing)');
	const n8n = await N8n.start(QUIET_N8N);
	try {
		const { stock } = await comparisonCredentials(n8n, emulator, `${KEY}-connected`, 'connected');
		progress('connected: overhead, one item per execution, interleaved');
		await overhead(n8n, emulator, stock);
		await outage(n8n, emulator, stock);
	} finally {
		await n8n.dispose();
	}
}
