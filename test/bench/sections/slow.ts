/** A first batch at real providers' speed in a real n8n: items sent to Needs Human, and new circuits against warm. */
import { N8n } from '../../harness/n8n';
import { outputsOf } from '../../support/executionOutputs';
import { emulatorCredentials } from '../../support/n8nFixture';
import { llmWorkflow } from '../../support/workflows';
import { figures, progress, round, rows } from '../report';
import type { SectionContext } from '../report';

/**
 * A first batch at real providers' speed in a real n8n, on the node's defaults: 8 items at
 * the default Concurrency (5), each answer taking 2 s or 5 s. Run on new circuits (new models), then again on
 * the same, now warm, circuits.
 */
export async function slowFirstBatch({ emulator, profile }: SectionContext): Promise<void> {
	emulator.loadScenario({
		profile,
		latencyMs: 2_000,
		rules: [{ provider: 'anthropic', every: 2, latencyMs: 3_000 }],
	});
	progress(
		`slow: starting a real n8n; batches of 8 items with answers of 2 s and 5 s; ${profile} profile`,
	);
	const n8n = await N8n.start();
	try {
		const credentials = await emulatorCredentials(n8n, emulator);
		let needsHuman = 0;
		const ratios: number[] = [];
		for (const tiers of [1, 2]) {
			const path = `bench-slow-${tiers}`;
			const chain = {
				tiers: [
					{
						provider: 'anthropic',
						model: `claude-bench-slow-${tiers}`,
						attempts: 3,
						timeoutSeconds: 60,
					},
					{ provider: 'openai', model: `gpt-bench-slow-${tiers}`, attempts: 3, timeoutSeconds: 60 },
				].slice(0, tiers),
			};
			const id = await n8n.createWorkflow(
				llmWorkflow(
					`bench slow ${tiers}`,
					path,
					{ prompt: '={{ $json.text }}', chain, options: {} },
					credentials,
				),
			);
			const items = Array.from({ length: 8 }, (_, i) => ({ text: `Slow item ${i}` }));
			const times: number[] = [];
			for (const run of ['new circuits', 'warm circuits']) {
				const started = performance.now();
				const response = await n8n.webhook(path, { items }, 120_000);
				times.push(performance.now() - started);
				if (response.status !== 200)
					throw new Error(`webhook ${path}: ${response.status} ${JSON.stringify(response.body)}`);
				const outputs = outputsOf(await n8n.latestExecution(id));
				needsHuman += outputs.needsHuman.length;
				progress(
					`slow: ${tiers} tier(s), ${run}: ${round(times[times.length - 1] / 1000, 2)} s, ${outputs.answered.length} answered, ${outputs.needsHuman.length} on Needs Human`,
				);
			}
			ratios.push(times[0] / times[1]);
		}
		figures.first_batch_slow_needs_human = needsHuman;
		figures.first_batch_slow_ratio = round(Math.max(...ratios), 2);
		rows.push([
			'first_batch_slow_needs_human',
			`${needsHuman}`,
			'32 items over 4 batches; target 0',
		]);
		rows.push([
			'first_batch_slow_ratio (new circuits / warm)',
			`${figures.first_batch_slow_ratio}`,
			`1 tier ${round(ratios[0], 2)}, 2 tiers ${round(ratios[1], 2)}; target <= 1.1`,
		]);
	} finally {
		await n8n.dispose();
	}
}
