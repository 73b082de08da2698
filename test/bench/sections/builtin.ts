/**
 * n8n's own answer to a failing model, its Basic LLM Chain with Enable Fallback Model, against
 * Resilient LLM with default options, in one n8n and against the same emulator scenarios: in
 * the instant profile and again at real models' pace (the realistic profile).
 */
import type { Profile, Rule } from '../../../lib/emulator/scenario';
import type { ProviderEmulator } from '../../../lib/emulator/server';
import { N8n } from '../../harness/n8n';
import {
	builtinWorkflow,
	comparisonCredentials,
	FALLBACK,
	PRIMARY,
} from '../../support/stockModels';
import { llmWorkflow } from '../../support/workflows';
import { figures, KEY, median, progress, QUIET_N8N, round, rows } from '../report';
import type { SectionContext } from '../report';

/** The emulator's primary failure in each scenario of the built-in comparison. */
const BUILTIN_SCENARIOS: Record<string, Rule[]> = {
	healthy: [],
	outage: [{ provider: 'anthropic', fault: 'overloaded' }],
	flapping: [{ provider: 'anthropic', fault: 'overloaded', every: 3 }],
	quota: [{ provider: 'anthropic', fault: 'quota_exhausted' }],
};

/** Executions of 5 items per side: the first two warm up. Fewer at real models' pace. */
const EXECUTIONS: Record<Profile, number> = { instant: 10, realistic: 6 };
const ITEMS = 5;

interface SideFigures {
	msPerItem: number;
	primaryShare: number;
	answered: number;
	items: number;
	primaryCalls: number;
	fallbackCalls: number;
	executionMs: number[];
}

/** Executions of 5 items, one after another; how many items the primary answered. */
async function runSide(
	n8n: N8n,
	emulator: ProviderEmulator,
	path: string,
	rules: Rule[],
	profile: Profile,
): Promise<SideFigures> {
	emulator.loadScenario({ profile, rules });
	emulator.resetCounts();
	const executionMs: number[] = [];
	let answered = 0;
	for (let execution = 0; execution < EXECUTIONS[profile]; execution++) {
		const items = Array.from({ length: ITEMS }, (_, i) => ({
			text: `Summarise ticket ${execution * ITEMS + i}: the parcel arrived late.`,
		}));
		const started = performance.now();
		const response = await n8n.webhook(path, { items }, 300_000);
		executionMs.push(performance.now() - started);
		if (response.status !== 200)
			throw new Error(`webhook ${path}: ${response.status} ${JSON.stringify(response.body)}`);
		const outputs = (Array.isArray(response.body) ? response.body : [response.body]) as Array<{
			text?: unknown;
		}>;
		answered += outputs.filter((output) => typeof output.text === 'string').length;
	}
	const items = EXECUTIONS[profile] * ITEMS;
	return {
		msPerItem: median(executionMs.slice(2)) / ITEMS,
		// Answers the primary sent in full: each is one item's answer on either side.
		primaryShare: emulator.answers(PRIMARY.provider, PRIMARY.model) / items,
		answered,
		items,
		primaryCalls: emulator.count(PRIMARY.provider, PRIMARY.model),
		fallbackCalls: emulator.count(FALLBACK.provider, FALLBACK.model),
		executionMs,
	};
}

/** One scenario in one profile: n8n's chain with fallback, then Resilient LLM with defaults. */
async function compare(
	n8n: N8n,
	emulator: ProviderEmulator,
	scenario: string,
	profile: Profile,
): Promise<void> {
	// Figure names as before for the instant profile; `_realistic_` marks the other.
	const name = profile === 'instant' ? scenario : `realistic_${scenario}`;
	const { stock, ours } = await comparisonCredentials(n8n, emulator, `${KEY}-${name}`, name);
	const path = name.replace('_', '-');
	await n8n.createWorkflow(builtinWorkflow(`builtin-${path}`, stock));
	await n8n.createWorkflow(
		llmWorkflow(
			`ours ${name}`,
			`ours-${path}`,
			{
				prompt: '={{ $json.text }}',
				chain: {
					tiers: [
						{ provider: PRIMARY.provider, model: PRIMARY.model },
						{ provider: FALLBACK.provider, model: FALLBACK.model },
					],
				},
				// Default options: what an operator who keeps the defaults gets.
				options: {},
			},
			ours,
		),
	);
	progress(`builtin: ${scenario} (${profile}), n8n's chain with fallback, then Resilient LLM`);
	const rules = BUILTIN_SCENARIOS[scenario];
	const sides = {
		builtin: await runSide(n8n, emulator, `builtin-${path}`, rules, profile),
		ours: await runSide(n8n, emulator, `ours-${path}`, rules, profile),
	};
	for (const [side, f] of Object.entries(sides)) {
		figures[`${side}_${name}_ms_per_item`] = round(f.msPerItem, 2);
		figures[`${side}_${name}_primary_share`] = round(f.primaryShare, 2);
		figures[`${side}_${name}_primary_calls`] = f.primaryCalls;
		figures[`${side}_${name}_fallback_calls`] = f.fallbackCalls;
		rows.push([
			`${side}_${name} (${side === 'ours' ? 'Resilient LLM, defaults' : "n8n's chain + fallback"})`,
			`${round(f.msPerItem, 2)} ms/item, ${Math.round(f.primaryShare * 100)} % from the primary`,
			`${f.answered}/${f.items} answered; calls: ${f.primaryCalls} primary, ${f.fallbackCalls} fallback; executions ${f.executionMs.map((ms) => Math.round(ms)).join(', ')} ms`,
		]);
	}
}

/** Each scenario gets its own API key, so its circuits start closed. */
export async function builtinComparison({ emulator }: SectionContext): Promise<void> {
	progress('builtin: starting a real n8n (installs it once if missing)');
	const n8n = await N8n.start(QUIET_N8N);
	try {
		for (const profile of ['instant', 'realistic'] as const)
			for (const scenario of Object.keys(BUILTIN_SCENARIOS))
				await compare(n8n, emulator, scenario, profile);
	} finally {
		await n8n.dispose();
	}
}
