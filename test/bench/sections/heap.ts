/** Heap growth per batch of 1,000 completed tasks, once the first batch has warmed up. */
import { FailoverChain } from '../../../lib/engine/failoverChain';
import { figures, KEY, progress, round, rows, sleep } from '../report';
import type { SectionContext } from '../report';

export async function heap({ emulator }: SectionContext): Promise<void> {
	progress('heap: 4 batches of 1,000 tasks');
	const gc = (globalThis as { gc?: () => void }).gc;
	if (!gc) throw new Error('run with --expose-gc (npm run bench does)');
	emulator.loadScenario({ rules: [{ provider: 'anthropic', fault: 'overloaded', rate: 0.2 }] });
	const chain = new FailoverChain({
		tiers: [
			{
				provider: 'anthropic',
				model: 'claude-haiku-4-5',
				apiKey: KEY,
				baseUrl: emulator.urls.anthropic,
			},
			{ provider: 'openai', model: 'gpt-4o-mini', apiKey: KEY, baseUrl: emulator.urls.openai },
		],
		backoff: { initialDelayMs: 1, maxDelayMs: 1 },
	});
	const batch = async () => {
		for (let i = 0; i < 1000; i++) {
			const result = await chain.run({ prompt: `Task ${i}: summarise.` });
			if (result.outcome !== 'answered') throw new Error(result.reasonText);
		}
		gc();
		await sleep(50);
		gc();
		return process.memoryUsage().heapUsed;
	};
	const baseline = await batch(); // warms the SDKs' keep-alive pools and JIT
	const after: number[] = [];
	for (let b = 0; b < 3; b++) after.push(await batch());
	const perBatch = (after[after.length - 1] - baseline) / after.length / 1024 / 1024;
	figures.heap_mb_per_1000_tasks = round(perBatch, 3);
	rows.push(['heap after warm-up batch', `${round(baseline / 1024 / 1024, 1)} MB`, '']);
	rows.push([
		'heap after each later batch of 1,000',
		after.map((h) => `${round(h / 1024 / 1024, 1)} MB`).join(', '),
		'',
	]);
	rows.push([
		'heap_mb_per_1000_tasks',
		`${figures.heap_mb_per_1000_tasks} MB`,
		'growth per batch; ~0 means nothing is held',
	]);
}
