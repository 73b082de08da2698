/**
 * Streamed chat at real models' pace in a real n8n: a Webhook in Streaming mode and an AI
 * Agent with Enable Streaming on, its model our Resilient Chat Model (Anthropic, then OpenAI,
 * defaults) or n8n's Anthropic Chat Model with Enable Fallback Model (n8n's OpenAI Chat
 * Model), side by side in interleaved rounds against the realistic profile. A client reads
 * each reply as n8n sends it: the time to its first text, with the primary healthy, down
 * (529), stalled (a 200 and its headers, then nothing) and cut mid-stream.
 */
import { CHAIN_DEFAULTS } from '../../../lib/engine/defaults';
import { generatedText } from '../../../lib/emulator/answerText';
import { DEFAULT_SEED, PROFILE_PACING } from '../../../lib/emulator/pacing';
import type { Rule } from '../../../lib/emulator/scenario';
import type { ProviderEmulator } from '../../../lib/emulator/server';
import { N8n } from '../../harness/n8n';
import { chatModelNode } from '../../support/agentWorkflows';
import {
	anthropicChatModelNode,
	comparisonCredentials,
	FALLBACK,
	openAiChatModelNode,
	PRIMARY,
} from '../../support/stockModels';
import { streamingAgentWorkflow } from '../../support/streamWorkflows';
import { streamWebhook } from '../../support/streamingClient';
import { figures, KEY, median, progress, QUIET_N8N, round, rows } from '../report';
import type { SectionContext } from '../report';

/** The longest wait for one reply. */
const WAIT_MS = 120_000;
/**
 * n8n's chain waits on a silent stream with no limit of its own: its side of the stalled
 * scenario is cut here, and its figure is this cap (a lower bound).
 */
const STALLED_BUILTIN_CAP_MS = 60_000;
const BROKEN_RUNS = 20;

type Side = 'ours' | 'builtin' | 'alone';

interface Phase {
	name: 'healthy' | 'outage' | 'stalled' | 'broken';
	rules: Rule[];
	sides: Side[];
	rounds: number;
}

const PHASES: Phase[] = [
	{ name: 'healthy', rules: [], sides: ['ours', 'builtin', 'alone'], rounds: 5 },
	{
		name: 'outage',
		rules: [{ provider: PRIMARY.provider, fault: 'overloaded' }],
		sides: ['ours', 'builtin'],
		rounds: 5,
	},
	{
		name: 'stalled',
		rules: [{ provider: PRIMARY.provider, fault: 'stream_stall', afterChunks: 0 }],
		sides: ['ours', 'builtin'],
		rounds: 2,
	},
	{
		name: 'broken',
		rules: [{ provider: PRIMARY.provider, fault: 'stream_cut', afterShare: 0.3 }],
		sides: ['ours'],
		rounds: BROKEN_RUNS,
	},
];

/** Each phase's workflows, with credentials of its own (so its circuits start closed). */
async function createWorkflows(
	n8n: N8n,
	emulator: ProviderEmulator,
	phase: Phase,
): Promise<Record<Side, string>> {
	const name = `stream-${phase.name}`;
	const { stock, ours } = await comparisonCredentials(n8n, emulator, `${KEY}-${name}`, name);
	const chatModel = chatModelNode(
		{
			chain: {
				tiers: [
					{ provider: PRIMARY.provider, model: PRIMARY.model },
					{ provider: FALLBACK.provider, model: FALLBACK.model },
				],
			},
			// Defaults, except that each cut stream must reach the model: an open circuit would
			// send the later runs to the secondary before any text.
			options: phase.name === 'broken' ? { circuitBreaker: false } : {},
		},
		ours,
	);
	const models: Record<Side, () => Parameters<typeof streamingAgentWorkflow>[2]> = {
		ours: () => [chatModel],
		builtin: () => [
			anthropicChatModelNode(stock.anthropic, [0, 0]),
			openAiChatModelNode(stock.openai, [0, 0]),
		],
		alone: () => [openAiChatModelNode(stock.openai, [0, 0])],
	};
	const paths = {} as Record<Side, string>;
	for (const side of phase.sides) {
		paths[side] = `${name}-${side}`;
		await n8n.createWorkflow(streamingAgentWorkflow(paths[side], paths[side], models[side]()));
	}
	return paths;
}

/** One reply as the client read it. */
interface StreamedReply {
	/** From the request to the first text; undefined when none came. */
	firstTextMs?: number;
	/** From the request to the end of the reply, or to the cap. */
	totalMs: number;
	text: string;
	pieces: number;
	/** What n8n's error lines said. */
	errors: string[];
	/** The reply had not ended at the cap. */
	capped: boolean;
}

/**
 * Round `round`'s customer message through one side's workflow, read for at most `capMs`.
 * Every side gets the same message in a round: the emulator paces a prompt by its text and
 * model, so the sides' answers start and run at the same pace and only their own work differs.
 */
async function ask(
	n8n: N8n,
	path: string,
	capMs: number,
	round: number,
): Promise<{ reply: StreamedReply; message: string }> {
	const message = `Question ${round + 1}: my parcel arrived late and damaged. What now?`;
	const started = performance.now();
	const since = () => performance.now() - started;
	const { status, chunks, stopped } = await streamWebhook(
		`${n8n.baseUrl}/webhook/${path}`,
		{ message },
		since,
		capMs + 10_000,
		capMs,
	);
	const texts = chunks.filter((c) => c.type === 'item' && c.content);
	const reply: StreamedReply = {
		firstTextMs: texts[0]?.observed,
		totalMs: since(),
		text: texts.map((c) => c.content).join(''),
		pieces: texts.length,
		errors: chunks
			.filter((c) => c.type === 'error' || c.type === 'unparsed')
			.map((c) => String(c.content)),
		capped: stopped,
	};
	if (!stopped && status !== 200)
		throw new Error(`stream ${path}: status ${status}: ${reply.errors.join('; ')}`);
	return { reply, message };
}

/** Time to the first text: the cap when none came before it; undefined when the reply ended without text. */
const ttft = (reply: StreamedReply) =>
	reply.firstTextMs ?? (reply.capped ? reply.totalMs : undefined);

interface SideRun {
	ttft: number[];
	capped: number;
	noText: string[];
}

async function ttftPhase(
	n8n: N8n,
	phase: Phase,
	paths: Record<Side, string>,
): Promise<Record<Side, SideRun>> {
	const runs = {} as Record<Side, SideRun>;
	for (const side of phase.sides) runs[side] = { ttft: [], capped: 0, noText: [] };
	for (let round = 0; round < phase.rounds; round++) {
		// Interleaved, alternating which side goes first, so drift hits each alike.
		const order = round % 2 === 0 ? phase.sides : [...phase.sides].reverse();
		for (const side of order) {
			const cap = phase.name === 'stalled' && side === 'builtin' ? STALLED_BUILTIN_CAP_MS : WAIT_MS;
			const { reply } = await ask(n8n, paths[side], cap, round);
			const ms = ttft(reply);
			if (reply.capped) runs[side].capped++;
			if (ms === undefined) runs[side].noText.push(reply.errors.join('; ') || 'no text');
			else runs[side].ttft.push(ms);
			progress(
				`stream ${phase.name} ${side}: ${ms === undefined ? 'no text' : `first text at ${Math.round(ms)} ms`}${reply.capped ? ' (capped)' : ''}, ${reply.pieces} pieces, ${Math.round(reply.totalMs)} ms in all`,
			);
		}
	}
	return runs;
}

function reportTtft(phase: Phase, side: Side, run: SideRun, note: string): void {
	const name =
		side === 'alone' ? 'stream_ttft_ms_secondary_alone' : `stream_ttft_ms_${phase.name}_${side}`;
	// No reply with text: null in the JSON line.
	figures[name] = run.ttft.length ? round(median(run.ttft), 0) : Number.NaN;
	const capped = run.capped ? `, ${run.capped} capped (a lower bound)` : '';
	const failed = run.noText.length ? `, ${run.noText.length} without text: ${run.noText[0]}` : '';
	rows.push([
		name,
		run.ttft.length ? `${figures[name]} ms` : 'no text',
		`median of ${run.ttft.length}${capped}${failed}${note ? `; ${note}` : ''}`,
	]);
}

/** The primary's stream cut after 30 % of its chunks: is the answer the reader gets whole, once? */
async function brokenPhase(n8n: N8n, emulator: ProviderEmulator, path: string): Promise<void> {
	let whole = 0;
	const calls: number[] = [];
	for (let run = 0; run < BROKEN_RUNS; run++) {
		emulator.resetCounts();
		const { reply, message } = await ask(n8n, path, WAIT_MS, run);
		// The emulator makes an answer up from its seed and the prompt alone: the answer whole.
		const prompt = [...emulator.promptCounts().keys()].find((p) => p.includes(message));
		const expected =
			prompt && generatedText(DEFAULT_SEED, prompt, PROFILE_PACING.realistic.answerTokens!);
		if (reply.text === expected) whole++;
		calls.push(emulator.stats().total);
		progress(
			`stream broken ${run + 1}/${BROKEN_RUNS}: ${reply.text === expected ? 'whole' : `not whole (${reply.text.length} of ${expected?.length ?? '?'} characters)`}, ${emulator.stats().total} model calls`,
		);
	}
	figures.stream_broken_complete_share = round(whole / BROKEN_RUNS, 2);
	rows.push([
		'stream_broken_complete_share',
		`${figures.stream_broken_complete_share}`,
		`${whole} of ${BROKEN_RUNS} answers whole, nothing repeated; model calls per run ${Math.min(...calls)}-${Math.max(...calls)}; breaker off; target 1.0`,
	]);
}

function ratioRows(): void {
	const alone = figures.stream_ttft_ms_secondary_alone;
	rows.push([
		'stream healthy, ours / builtin',
		`${round(figures.stream_ttft_ms_healthy_ours / figures.stream_ttft_ms_healthy_builtin, 2)}`,
		'target <= 1.1',
	]);
	rows.push([
		'stream outage, ours / secondary alone',
		`${round(figures.stream_ttft_ms_outage_ours / alone, 2)}`,
		'target <= 1.2',
	]);
	const bound = figures.stream_first_token_timeout_ms + 1.2 * alone;
	rows.push([
		'stream stalled, ours against its bound',
		`${figures.stream_ttft_ms_stalled_ours} ms`,
		`target <= First Token Timeout + 1.2 x secondary alone = ${Math.round(bound)} ms`,
	]);
}

export async function streaming({ emulator }: SectionContext): Promise<void> {
	progress('stream: starting a real n8n (installs it once if missing); realistic profile');
	const n8n = await N8n.start(QUIET_N8N);
	figures.stream_first_token_timeout_ms = CHAIN_DEFAULTS.firstTokenTimeoutMs;
	rows.push([
		'stream_first_token_timeout_ms',
		`${CHAIN_DEFAULTS.firstTokenTimeoutMs} ms`,
		"Resilient Chat Model's default First Token Timeout",
	]);
	try {
		for (const phase of PHASES) {
			const paths = await createWorkflows(n8n, emulator, phase);
			emulator.loadScenario({ profile: 'realistic', rules: phase.rules });
			progress(`stream: ${phase.name}, ${phase.rounds} rounds of ${phase.sides.join(', ')}`);
			if (phase.name === 'broken') {
				await brokenPhase(n8n, emulator, paths.ours);
				continue;
			}
			const runs = await ttftPhase(n8n, phase, paths);
			for (const side of phase.sides) {
				const note =
					phase.name === 'stalled' && side === 'builtin'
						? `its wait capped at ${STALLED_BUILTIN_CAP_MS} ms`
						: '';
				reportTtft(phase, side, runs[side], note);
			}
		}
		ratioRows();
	} finally {
		await n8n.dispose();
	}
}
