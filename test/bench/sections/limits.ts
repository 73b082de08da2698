/**
 * A batch against a provider's rate limit: 1,000 items at Concurrency 16 through one key the
 * emulator limits to 600 requests and 60,000 tokens a minute, each answer taking 100 ms.
 * n8n's Basic LLM Chain (batches of 16, Retry On Fail: 5 tries, 1 s apart) against Resilient
 * LLM with default options, which paces by the limit headers. Reported: the 429s each side
 * got, and ours' wall time over the limit's ideal (items / RPM). Then the same through a pool
 * of two such keys (Additional API Keys), and two queue-mode workers racing at a budget.
 */
import { randomUUID } from 'node:crypto';

import type { ProviderEmulator } from '../../../lib/emulator/server';
import { N8n } from '../../harness/n8n';
import {
	comparisonCredentials,
	FALLBACK,
	openAiChatModelNode,
	withModels,
} from '../../support/stockModels';
import { splitItemsNode, webhookNode, workflow, llmWorkflow } from '../../support/workflows';
import type { WorkflowNode } from '../../support/workflows';
import { figures, progress, QUIET_N8N, round, rows } from '../report';
import type { SectionContext } from '../report';
import { budgetRace } from './budgetRace';

const ITEMS = 1000;
const CONCURRENCY = 16;
const RPM = 600;
const TPM = 60_000;
const LATENCY_MS = 100;
/** The time the limit itself needs for the batch. */
const IDEAL_MS = (ITEMS / RPM) * 60_000;

/** Webhook -> Split Items -> Basic LLM Chain in batches of 16, retried on failure 5 times, 1 s apart. */
function builtinWorkflow(
	path: string,
	credential: { id: string; name: string },
): Record<string, unknown> {
	const chain: WorkflowNode = {
		id: randomUUID(),
		name: 'Basic LLM Chain',
		type: '@n8n/n8n-nodes-langchain.chainLlm',
		typeVersion: 1.9,
		position: [440, 0],
		parameters: {
			promptType: 'define',
			text: '={{ $json.text }}',
			batching: { batchSize: CONCURRENCY, delayBetweenBatches: 0 },
		},
		retryOnFail: true,
		maxTries: 5,
		waitBetweenTries: 1000,
	};
	return withModels(
		workflow(`limits builtin ${path}`, [webhookNode(path), splitItemsNode(), chain]),
		chain.name,
		[openAiChatModelNode(credential, [440, 220])],
	);
}

interface Side {
	wallMs: number;
	answered: number;
	limited: number;
	calls: number;
	status: number;
}

async function runSide(n8n: N8n, emulator: ProviderEmulator, path: string): Promise<Side> {
	// Each API key gets its own buckets: a pool of two keys has twice the room.
	emulator.loadScenario({
		latencyMs: LATENCY_MS,
		limits: [{ provider: 'openai', rpm: RPM, tpm: TPM }],
	});
	emulator.resetCounts();
	const items = Array.from({ length: ITEMS }, (_, i) => ({ text: `Summarise note ${i}.` }));
	const started = performance.now();
	const response = await n8n.webhook(path, { items }, 1_800_000);
	const wallMs = performance.now() - started;
	const outputs = (Array.isArray(response.body) ? response.body : [response.body]) as Array<{
		text?: unknown;
	}>;
	return {
		wallMs,
		answered:
			response.status === 200 ? outputs.filter((o) => typeof o.text === 'string').length : 0,
		limited: emulator.stats().limited,
		calls: emulator.count('openai'),
		status: response.status,
	};
}

export async function limits({ emulator }: SectionContext): Promise<void> {
	progress('limits: starting a real n8n (installs it once if missing)');
	const n8n = await N8n.start(QUIET_N8N);
	try {
		const key = `limits-${randomUUID().slice(0, 8)}`;
		const { stock, ours } = await comparisonCredentials(n8n, emulator, key, 'limits');
		await n8n.createWorkflow(builtinWorkflow('limits-builtin', stock.openai));
		await n8n.createWorkflow(
			llmWorkflow(
				'limits ours',
				'limits-ours',
				{
					prompt: '={{ $json.text }}',
					chain: { tiers: [{ provider: FALLBACK.provider, model: FALLBACK.model }] },
					options: { concurrency: CONCURRENCY },
				},
				ours,
			),
		);
		const poolName = 'Resilient OpenAI (limits pool)';
		const poolCredential = {
			name: poolName,
			id: await n8n.createCredential(poolName, 'resilientLlmOpenAiApi', {
				apiKey: key,
				additionalApiKeys: `${key}-second`,
				baseUrl: emulator.urls.openai,
			}),
		};
		await n8n.createWorkflow(
			llmWorkflow(
				'limits pool',
				'limits-pool',
				{
					prompt: '={{ $json.text }}',
					chain: { tiers: [{ provider: FALLBACK.provider, model: FALLBACK.model }] },
					options: { concurrency: CONCURRENCY },
				},
				{ resilientLlmOpenAiApi: poolCredential },
			),
		);
		progress(
			`limits: ${ITEMS} items, ${RPM} RPM / ${TPM} TPM, n8n's Basic LLM Chain with Retry On Fail`,
		);
		const builtin = await runSide(n8n, emulator, 'limits-builtin');
		progress('limits: the same through Resilient LLM');
		const mine = await runSide(n8n, emulator, 'limits-ours');
		progress('limits: the same with a pool of two keys (Additional API Keys)');
		const pooled = await runSide(n8n, emulator, 'limits-pool');
		figures.limits_items = ITEMS;
		figures.limits_ideal_ms = Math.round(IDEAL_MS);
		figures.limits_429_ours = mine.limited;
		figures.limits_429_builtin = builtin.limited;
		figures.limits_429_ours_share = round(mine.limited / ITEMS, 4);
		figures.limits_wall_ms_ours = Math.round(mine.wallMs);
		figures.limits_wall_ms_builtin = Math.round(builtin.wallMs);
		figures.limits_wall_ratio_ours = round(mine.wallMs / IDEAL_MS, 3);
		figures.limits_wall_ratio_builtin = round(builtin.wallMs / IDEAL_MS, 3);
		figures.limits_answered_ours = mine.answered;
		figures.keypool_429 = pooled.limited;
		figures.keypool_wall_ms = Math.round(pooled.wallMs);
		figures.keypool_answered = pooled.answered;
		figures.keypool_speedup = round(mine.wallMs / pooled.wallMs, 3);
		rows.push([
			'keypool_speedup (Resilient LLM, two keys of 600 RPM in one credential)',
			`${figures.keypool_speedup}× one key`,
			`${pooled.answered}/${ITEMS} answered; ${pooled.limited} 429s; ${Math.round(pooled.wallMs)} ms`,
		]);
		figures.limits_answered_builtin = builtin.answered;
		for (const [side, f] of [
			['ours', mine],
			['builtin', builtin],
		] as const) {
			rows.push([
				`limits_${side} (${side === 'ours' ? 'Resilient LLM, defaults' : 'Basic LLM Chain, Retry On Fail 5 × 1 s'})`,
				`${f.limited} 429s, ${round(f.wallMs / IDEAL_MS, 3)}× the ideal ${Math.round(IDEAL_MS / 1000)} s`,
				`${f.answered}/${ITEMS} answered (HTTP ${f.status}); ${f.calls} calls; ${Math.round(f.wallMs)} ms`,
			]);
		}
	} finally {
		await n8n.dispose();
	}
	await budgetRace(emulator);
}
