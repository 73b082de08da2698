/** The engine's added latency per call, over the same SDK call made directly. */
import OpenAI from 'openai';

import { FailoverChain } from '../../../lib/engine/failoverChain';
import { figures, KEY, median, progress, round, rows } from '../report';
import type { SectionContext } from '../report';

export async function overhead({ emulator }: SectionContext): Promise<void> {
	progress('overhead: 3000 interleaved calls each way');
	emulator.loadScenario({});
	const direct = new OpenAI({
		apiKey: KEY,
		baseURL: emulator.urls.openai,
		maxRetries: 0,
		timeout: 61_000,
	});
	const chain = new FailoverChain({
		tiers: [
			{ provider: 'openai', model: 'gpt-4o-mini', apiKey: KEY, baseUrl: emulator.urls.openai },
		],
	});
	const directCall = () =>
		direct.chat.completions.create({
			model: 'gpt-4o-mini',
			messages: [{ role: 'user', content: 'Say hi.' }],
			max_completion_tokens: 1024,
		});
	const engineCall = () => chain.run({ prompt: 'Say hi.' });
	for (let i = 0; i < 300; i++) {
		await directCall();
		await engineCall();
	}
	const directMs: number[] = [];
	const engineMs: number[] = [];
	// Interleaved, alternating which goes first, so drift in the machine hits both equally.
	for (let i = 0; i < 3000; i++) {
		const order =
			i % 2 === 0 ? ([directCall, engineCall] as const) : ([engineCall, directCall] as const);
		for (const fn of order) {
			const started = performance.now();
			await fn();
			(fn === directCall ? directMs : engineMs).push(performance.now() - started);
		}
	}
	const d = median(directMs);
	const e = median(engineMs);
	figures.direct_sdk_ms_median = round(d);
	figures.engine_ms_median = round(e);
	figures.overhead_ms_median = round(e - d);
	rows.push(['direct OpenAI SDK call, median', `${round(d)} ms`, '3000 calls']);
	rows.push(['same call through the engine, median', `${round(e)} ms`, '3000 calls, interleaved']);
	rows.push(['overhead_ms_median', `${round(e - d)} ms`, 'target <= 0.3 ms']);
}
