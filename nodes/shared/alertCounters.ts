/**
 * The alert counters the Resilience Alert reads: one CounterBuffer per store, summed in
 * memory, written once a second, and written at once when the process is told to stop
 * (SIGTERM, SIGINT) or the stores are closed.
 */
import type { TierSummary } from '../../lib/engine/types';
import { CounterBuffer } from '../../lib/state/counterBuffer';
import type { StateStore } from '../../lib/state/types';

const counterBuffers = new Map<StateStore, CounterBuffer>();
/**
 * Every counter buffer in this process, kept on the global object: the package's bundle is
 * loaded once, but a package updated in a running n8n (or one installed twice) loads a second
 * copy, and a reader must see every copy's counts.
 */
const allCounterBuffers: Set<CounterBuffer> = ((globalThis as Record<symbol, unknown>)[
	Symbol.for('n8n-nodes-resilient-llm.counterBuffers')
] ??= new Set<CounterBuffer>()) as Set<CounterBuffer>;

/** What a task's calls cost per model (`provider/model`, US dollars), for the spend figure. */
export function costByModelOf(tiers: TierSummary[]): Record<string, number> {
	const byModel: Record<string, number> = {};
	for (const tier of tiers)
		if (tier.costUsd > 0) {
			const model = `${tier.provider}/${tier.model}`;
			byModel[model] = (byModel[model] ?? 0) + tier.costUsd;
		}
	return byModel;
}

/** A logger as n8n hands one to nodes. */
export interface Warn {
	warn(message: string, meta?: object): void;
}

/**
 * The store's alert counters, summed in memory and written once a second: a task costs no
 * store write. One buffer per store, shared by every execution in this process.
 */
export function countersOf(store: StateStore, logger?: Warn): CounterBuffer {
	let buffer = counterBuffers.get(store);
	if (!buffer) {
		let failures = 0;
		const created = new CounterBuffer(store, {
			flushEveryMs: flushInterval(),
			onFlushError: (error) => {
				// Once when writes start failing, then once a minute while they do.
				if (failures++ % 60 === 0)
					logger?.warn('Resilient LLM: could not write alert counters; kept for the next try', {
						error: (error as Error).message,
						pendingTasks: created.pendingTasks,
					});
			},
			onFlushed: () => {
				failures = 0;
			},
		});
		buffer = created;
		counterBuffers.set(store, buffer);
		allCounterBuffers.add(buffer);
		hookShutdown();
	}
	return buffer;
}

/**
 * RESILIENT_LLM_COUNTER_FLUSH_MS: how often alert counters are written (milliseconds); once
 * a second unless set.
 */
function flushInterval(): number | undefined {
	const ms = Number(process.env.RESILIENT_LLM_COUNTER_FLUSH_MS);
	return Number.isFinite(ms) && ms > 0 ? ms : undefined;
}

/**
 * Writes the counts every buffer in this process holds, so that a read that follows (the
 * Resilience Alert's poll) sees the tasks counted here in the last second too.
 */
export async function flushCounters(): Promise<void> {
	await Promise.all([...allCounterBuffers].map((buffer) => buffer.flush().catch(() => undefined)));
}

export async function closeCounters(store: StateStore): Promise<void> {
	const buffer = counterBuffers.get(store);
	counterBuffers.delete(store);
	if (buffer) allCounterBuffers.delete(buffer);
	await buffer?.close().catch(() => undefined);
}

const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
let shutdownHooked = false;
/** Signals nobody else handled when the hook was set: raised again after the write. */
const reraise = new Set<NodeJS.Signals>();

/**
 * n8n stops on SIGTERM or SIGINT (its own handlers wind it down): counters waiting for their
 * second are written then, and any counted while n8n winds down are written at once. In a
 * process where nobody else handles the signal, it is raised again after the write, so the
 * process still stops as it would have.
 */
function onShutdownSignal(signal: NodeJS.Signals): void {
	const again = reraise.has(signal);
	unhookShutdown();
	void Promise.all(
		[...counterBuffers.values()].map((buffer) => buffer.close().catch(() => undefined)),
	).finally(() => {
		if (again) process.kill(process.pid, signal);
	});
}

/**
 * A process that ends by itself (no more work) writes its counters first; once only, so that
 * a write that fails and is tried again cannot keep a finished process going.
 */
function onBeforeExit(): void {
	process.removeListener('beforeExit', onBeforeExit);
	for (const buffer of counterBuffers.values()) void buffer.flush().catch(() => undefined);
}

function hookShutdown(): void {
	if (shutdownHooked) return;
	shutdownHooked = true;
	for (const signal of SHUTDOWN_SIGNALS) {
		if (process.listenerCount(signal) === 0) reraise.add(signal);
		process.on(signal, onShutdownSignal);
	}
	process.on('beforeExit', onBeforeExit);
}

export function unhookShutdown(): void {
	if (!shutdownHooked) return;
	shutdownHooked = false;
	reraise.clear();
	for (const signal of SHUTDOWN_SIGNALS) process.removeListener(signal, onShutdownSignal);
	process.removeListener('beforeExit', onBeforeExit);
}
