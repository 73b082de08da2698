/** Redis killed mid-batch in a real n8n, and the primary's calls cut mid-body: recovery time and items lost. */
import { RedisServer } from '../../harness/redis';
import { N8n } from '../../harness/n8n';
import { KEYS, MODELS } from '../../support/emulator';
import { itemsLost, outputsOf } from '../../support/executionOutputs';
import { emulatorCredentials } from '../../support/n8nFixture';
import { storeFaultOptions } from '../../support/storeFaultOptions';
import { llmWorkflow } from '../../support/workflows';
import { figures, progress, round, rows, sleep } from '../report';
import type { SectionContext } from '../report';

/**
 * Redis killed in the middle of a batch, as the fault-injection tests do it, measured: how
 * long after Redis is back the node uses it again, and whether any item or answer went missing.
 */
export async function chaos({ emulator }: SectionContext): Promise<void> {
	const ITEMS = 200;
	emulator.loadScenario({
		apiKeys: KEYS,
		latencyMs: 20,
		rules: [{ provider: 'anthropic', fault: 'drop_mid_body', rate: 0.2 }],
	});
	progress('chaos: a real n8n with the Redis store');
	let redis = await RedisServer.start();
	const n8n = await N8n.start();
	let lost = 0;
	const recoveries: number[] = [];
	try {
		const credentials = await emulatorCredentials(n8n, emulator);
		const redisId = await n8n.createCredential('Chaos Redis', 'resilientLlmRedisApi', {
			host: '127.0.0.1',
			port: redis.port,
			database: 0,
			ssl: false,
		});
		const workflowFor = async (mode: 'fail' | 'proceed') => {
			const path = `chaos-${mode}`;
			const id = await n8n.createWorkflow(
				llmWorkflow(
					path,
					path,
					{
						prompt: '={{ $json.text }}',
						chain: {
							tiers: [
								{ provider: 'anthropic', model: MODELS.anthropic, attempts: 2, timeoutSeconds: 30 },
								{ provider: 'openai', model: MODELS.openai, attempts: 2, timeoutSeconds: 30 },
							],
						},
						options: storeFaultOptions('redis', mode, { initialBackoffMs: 20 }),
					},
					{ ...credentials, resilientLlmRedisApi: { id: redisId, name: 'Chaos Redis' } },
					{ onError: 'continueErrorOutput' },
				),
			);
			return { id, path };
		};
		/** Runs items through a workflow; adds what went missing to `lost`; true when every item used Redis. */
		const send = async (
			target: { id: string; path: string },
			tag: string,
			count: number,
			during?: () => Promise<void>,
		): Promise<boolean> => {
			const items = Array.from({ length: count }, (_, id) => ({
				id,
				key: `${tag}-${id}`,
				text: `Ticket ${tag}-${id}`,
			}));
			const answersBefore = emulator.answers();
			const response = n8n.webhook(target.path, { items }, 300_000);
			await during?.();
			if ((await response).status !== 200) throw new Error(`chaos: webhook ${target.path} failed`);
			const outputs = outputsOf(await n8n.latestExecution(target.id));
			lost += itemsLost(
				outputs,
				items.map((item) => item.id),
			);
			const delivered = outputs.answered.filter(
				(item) => !(item.resilience as { cached?: boolean }).cached,
			).length;
			lost += Math.max(0, emulator.answers() - answersBefore - delivered);
			return (
				outputs.errors.length === 0 &&
				outputs.answered.every((item) => !(item.resilience as { degraded?: string }).degraded)
			);
		};
		for (const mode of ['fail', 'proceed'] as const) {
			const target = await workflowFor(mode);
			const callsAtStart = emulator.stats().total;
			progress(`chaos (${mode}): ${ITEMS} items, Redis killed after 50 calls, back 5 s later`);
			let back = 0;
			await send(target, `${mode}-batch`, ITEMS, async () => {
				while (emulator.stats().total - callsAtStart < 50) await sleep(5);
				await redis.stop('SIGKILL');
				await sleep(5_000);
				redis = await RedisServer.start(redis.port);
				back = performance.now();
			});
			if (!back) throw new Error('chaos: Redis was not restarted');
			// Executions of one item each, one after another, until one uses Redis again.
			let recovered = false;
			for (let n = 0; n < 200 && !recovered; n++)
				recovered = await send(target, `${mode}-probe-${n}`, 1);
			if (!recovered) throw new Error(`chaos (${mode}): no item used Redis again`);
			recoveries.push((performance.now() - back) / 1000);
		}
	} finally {
		await n8n.dispose();
		await redis.stop();
	}
	figures.redis_blip_recovery_s = round(Math.max(...recoveries));
	figures.chaos_items_lost = lost;
	rows.push([
		'redis_blip_recovery_s',
		`${figures.redis_blip_recovery_s} s`,
		`fail: ${round(recoveries[0])} s, proceed: ${round(recoveries[1])} s; target <= 2 s`,
	]);
	rows.push([
		'chaos_items_lost',
		`${lost}`,
		'2 x 200 items, Redis killed mid-batch, 20 % of primary calls cut mid-body; target 0',
	]);
}
