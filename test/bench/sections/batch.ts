/** 1,000 items through Resilient LLM's item loop, outside n8n, against the ideal time. */
import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import { ResilientLlm } from '../../../nodes/ResilientLlm/ResilientLlm.node.ts';
import { fakeExecute } from '../../support/fakeExecute';
import { figures, KEY, progress, round, rows } from '../report';
import type { SectionContext } from '../report';

export async function batch({ emulator }: SectionContext): Promise<void> {
	progress('batch: 1,000 items through the node at 100 ms latency');
	emulator.loadScenario({ latencyMs: 100 });
	const items = Array.from({ length: 1000 }, (_, i) => ({ text: `Summarise document ${i}.` }));
	const credentials: Record<string, ICredentialDataDecryptedObject> = {
		resilientLlmOpenAiApi: { apiKey: KEY, baseUrl: emulator.urls.openai },
	};
	const run = fakeExecute({
		items,
		parameters: {
			prompt: (i: number) => items[i].text,
			chain: {
				tiers: [{ provider: 'openai', model: 'gpt-4o-mini', attempts: 3, timeoutSeconds: 30 }],
			},
			options: { concurrency: 16 },
		},
		credentials,
	});
	const started = performance.now();
	const outputs = await new ResilientLlm().execute.call(run.context);
	const wall = (performance.now() - started) / 1000;
	if (outputs[0].length !== 1000) throw new Error(`batch: ${outputs[0].length} of 1000 answered`);
	figures.batch_1000_wall_s = round(wall);
	figures.batch_ideal_s = round((1000 * 0.1) / 16);
	rows.push([
		'batch_1000_wall_s (node item loop, 100 ms, concurrency 16)',
		`${figures.batch_1000_wall_s} s`,
		`${round(wall / figures.batch_ideal_s, 2)}x ideal; target <= 1.25x`,
	]);
	rows.push(['batch_ideal_s (1000 * 0.1 / 16)', `${figures.batch_ideal_s} s`, '']);
}
