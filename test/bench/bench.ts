/**
 * npm run bench: measured figures against the provider emulator, in one process and one run.
 * Prints a table, then one JSON line last. `-- --only stream,builtin` runs some sections (one
 * file each under sections/); `-- --profile realistic` paces the emulator like real models
 * (first token 400-900 ms, 40-80 tokens/s) in the n8n, agent, queue and slow sections.
 *
 *   overhead_ms_median       engine's added latency per successful call over the same SDK called directly
 *   outage_naive_s           mean time per task, primary always 529, naive retry-then-fallback pattern
 *   outage_engine_s          the same tasks through the engine
 *   secondary_s              the secondary's own latency (the floor for both)
 *   heap_mb_per_1000_tasks   heap growth per batch of 1,000 completed tasks, after the first batch
 *   batch_1000_wall_s        1,000 items through the node's item loop, 100 ms latency, concurrency 16
 *   batch_ideal_s            1000 * 0.1 / 16
 *   n8n_exec_per_s_node      webhook executions per second in a real n8n, workflow with this node
 *   n8n_exec_per_s_http      the same workflow with the stock HTTP Request node calling the emulator
 *   outage_breaker_s         the outage tasks with the circuit breaker on (embedded store), all 20
 *   outage_breaker_open_s    the same, only the tasks after the breaker opened
 *   idempotent_hit_ms_median time to return a stored result, embedded and Redis
 *   queue_mode_exec_per_s    n8n queue mode (PostgreSQL, Redis, a main): executions per second
 *                            with two workers and with one, 2 s provider latency, 40 in flight
 *   builtin_<scenario>_*     n8n's Basic LLM Chain with Enable Fallback Model (Anthropic Chat Model,
 *   ours_<scenario>_*        then OpenAI Chat Model) against Resilient LLM (Anthropic, then OpenAI)
 *                            with default options, in one n8n: ms per item (median over executions
 *                            3-10 of 10, 5 items each) and the share answered by the primary, for
 *                            healthy, outage (529 always), flapping (529 on every third call) and
 *                            quota (429 quota exhausted always); builtin_realistic_<scenario>_* and
 *                            ours_realistic_<scenario>_* the same at real models' pace (realistic
 *                            profile, 6 executions of 5 items, median over executions 3-6)
 *   redis_blip_recovery_s    (chaos) a real n8n with the Redis store: Redis killed (SIGKILL) during
 *                            a 200-item batch and started 5 s later; from Redis answering again to
 *                            the end of the first execution whose item used it again (the worse
 *                            of the two runs, "fail" and "proceed")
 *   chaos_items_lost         (chaos) over those batches (a fifth of the primary's calls dropped
 *                            mid-body) and the executions after: items not on exactly one output,
 *                            plus answers the provider sent that no item delivered
 *   first_batch_slow_needs_human  (slow) a real n8n, default options, 8 items at the default Concurrency,
 *                            answers taking 2 s and 5 s in turn, one tier and two: items sent to
 *                            Needs Human over the batches on new circuits and again on warm ones
 *   first_batch_slow_ratio   (slow) that batch's wall time on new circuits over the same batch on
 *                            the warm circuits (the worse of one tier and two)
 *   redis_latency_deadline_overrun_ms  (redis) 20 tasks at once, breaker and idempotency on a Redis
 *                            100 ms away each way (a latency proxy on loopback), a 3 s deadline and
 *                            1 s answers: the worst task's time past its deadline
 *   agent_outage_ratio       an AI Agent's two-tool task on Resilient Chat Model (breaker on):
 *                            median wall time with the primary down, once its circuit opened,
 *                            over the same with the primary up
 *   stream_ttft_ms_*         (stream) a real n8n, Webhook in Streaming mode -> AI Agent (Enable
 *                            Streaming), realistic profile: time from the request to the first
 *                            text at the client, median over interleaved rounds, for our Resilient
 *                            Chat Model (Anthropic, then OpenAI) and n8n's Anthropic Chat Model with
 *                            Enable Fallback Model (OpenAI Chat Model): _healthy_ours/_builtin,
 *                            _secondary_alone (n8n's OpenAI Chat Model alone), _outage_ours/_builtin
 *                            (the primary 529 on every call), _stalled_ours/_builtin (the primary
 *                            sends a 200 and its headers, then nothing; each wait capped)
 *   stream_first_token_timeout_ms  the default First Token Timeout
 *   stream_broken_complete_share   (stream) the primary's stream cut after 30 % of its chunks, 20
 *                            runs through Resilient Chat Model: share of answers that arrive whole,
 *                            nothing repeated or lost
 *   connected_overhead_ms_median  (connected) a real n8n: n8n's stock OpenAI Chat Model called
 *                            through Resilient LLM as a connected tier vs directly by its Basic LLM
 *                            Chain, one item per execution, interleaved: the difference of medians
 *   builtin_connected_outage_ms_per_item, ours_connected_outage_ms_per_item  (connected) the
 *                            outage scenario with the same two stock nodes on both sides: n8n's
 *                            chain with Enable Fallback Model, Resilient LLM with them as tiers
 *   limits_429_ours, limits_429_builtin  (limits) a real n8n, 1,000 items at Concurrency 16 on one
 *                            key the emulator limits to 600 RPM and 60k TPM, 100 ms answers: the
 *                            429s Resilient LLM (defaults: pacing by the limit headers) and n8n's
 *                            Basic LLM Chain (batches of 16, Retry On Fail 5 × 1 s) got
 *   limits_wall_ratio_ours   (limits) ours' wall time over the limit's ideal, items / RPM
 *   keypool_speedup          (limits) the same batch through a pool of two such keys (one
 *                            credential with Additional API Keys): one key's wall time over the pool's
 *   budget_overspend_usd, budget_inflight_usd  (limits) queue mode, two workers, 200 one-item
 *                            executions 20 at a time at about $0.01 each against a $1.00 day budget
 *                            in Redis: spent past the cap, and the price of the calls in flight
 */
import { PROFILES } from '../../lib/emulator/pacing';
import type { Profile } from '../../lib/emulator/scenario';
import { ProviderEmulator } from '../../lib/emulator/server';
import { figures, rows } from './report';
import type { Section } from './report';
import { agentOutage } from './sections/agent';
import { batch } from './sections/batch';
import { builtinComparison } from './sections/builtin';
import { chaos } from './sections/chaos';
import { connectedModels } from './sections/connected';
import { heap } from './sections/heap';
import { idempotentHits } from './sections/idempotency';
import { limits } from './sections/limits';
import { n8nThroughput } from './sections/n8n';
import { outage } from './sections/outage';
import { overhead } from './sections/overhead';
import { queueThroughput } from './sections/queue';
import { redisLatency } from './sections/redis';
import { slowFirstBatch } from './sections/slow';
import { streaming } from './sections/stream';

/** Every section, by its `--only` name, in the order a full run takes them. */
const SECTIONS: [string, Section][] = [
	['overhead', overhead],
	['heap', heap],
	['outage', outage],
	['batch', batch],
	['idempotency', idempotentHits],
	['n8n', n8nThroughput],
	['queue', queueThroughput],
	['builtin', builtinComparison],
	['chaos', chaos],
	['agent', agentOutage],
	['slow', slowFirstBatch],
	['redis', redisLatency],
	['stream', streaming],
	['connected', connectedModels],
	['limits', limits],
];

function argument(name: string): string | undefined {
	const index = process.argv.indexOf(name);
	return index >= 0 ? (process.argv[index + 1] ?? '') : undefined;
}

function options(): { only?: Set<string>; profile: Profile } {
	// `npm run bench -- --only batch,n8n` runs some sections; all by default.
	const onlyArg = argument('--only');
	const only = onlyArg === undefined ? undefined : new Set(onlyArg.split(','));
	const unknown = [...(only ?? [])].filter((name) => !SECTIONS.some(([known]) => known === name));
	if (unknown.length)
		throw new Error(
			`--only: unknown section ${unknown.join(', ')}; use ${SECTIONS.map(([name]) => name).join(', ')}`,
		);
	const profile = argument('--profile') ?? 'instant';
	if (!(PROFILES as readonly string[]).includes(profile))
		throw new Error(`--profile: unknown profile ${profile}; use ${PROFILES.join(', ')}`);
	return { only, profile: profile as Profile };
}

async function main(): Promise<void> {
	const { only, profile } = options();
	if (profile !== 'instant') rows.push(['profile (n8n, agent, queue, slow)', profile, '']);
	const emulator = new ProviderEmulator();
	await emulator.start();
	try {
		for (const [name, run] of SECTIONS)
			if (!only || only.has(name)) await run({ emulator, profile });
	} finally {
		await emulator.stop();
	}
	const width = Math.max(...rows.map((r) => r[0].length));
	process.stdout.write(`${'figure'.padEnd(width)}  value\n`);
	for (const [name, value, note] of rows)
		process.stdout.write(`${name.padEnd(width)}  ${value}${note ? `   (${note})` : ''}\n`);
	process.stdout.write(`${JSON.stringify(figures)}\n`);
}

main().catch((error: unknown) => {
	process.stderr.write(
		`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
	);
	process.exit(1);
});
