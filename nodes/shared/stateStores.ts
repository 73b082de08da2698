/**
 * The state store Resilient LLM nodes share breaker, idempotency and alert state through
 * (and Human Review its decision claims): one per file or Redis server and key prefix,
 * opened once per n8n process and kept for later executions. A Redis store reconnects by
 * itself after an outage; one closed for good is opened afresh.
 *
 * Alert counters go through one CounterBuffer per store: summed in memory, written once a
 * second, and written at once when the process is told to stop (SIGTERM, SIGINT) or the
 * stores are closed.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

import type {
	ICredentialDataDecryptedObject,
	IExecuteFunctions,
	IPollFunctions,
	IWebhookFunctions,
} from 'n8n-workflow';

import { CounterBuffer } from '../../lib/state/counterBuffer';
import { DEFAULT_PREFIX, RedisStateStore } from '../../lib/state/redisStore';
import type { RedisSettings } from '../../lib/state/redisStore';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import type { StateStore } from '../../lib/state/types';

/** The Resilient LLM node's type, whose n8n storage folder holds the embedded store. */
export const LLM_NODE_TYPE = 'n8n-nodes-resilient-llm.resilientLlm';

const open = new Map<string, Promise<StateStore>>();
const counterBuffers = new Map<StateStore, CounterBuffer>();
/**
 * Every counter buffer in this process, kept on the global object: n8n may load this file
 * more than once (one copy per node class), and a reader must see every copy's counts.
 */
const allCounterBuffers: Set<CounterBuffer> = ((globalThis as Record<symbol, unknown>)[
	Symbol.for('n8n-nodes-resilient-llm.counterBuffers')
] ??= new Set<CounterBuffer>()) as Set<CounterBuffer>;

type StoreContext = IExecuteFunctions | IPollFunctions | IWebhookFunctions;

export function redisSettings(credential: ICredentialDataDecryptedObject): RedisSettings {
	return {
		host: String(credential.host ?? '127.0.0.1'),
		port: Number(credential.port ?? 6379),
		user: credential.user ? String(credential.user) : undefined,
		password: credential.password ? String(credential.password) : undefined,
		database: Number(credential.database ?? 0),
		ssl: Boolean(credential.ssl),
		prefix: String(credential.prefix ?? '').trim() || DEFAULT_PREFIX,
	};
}

/** Hashes passwords for store keys; new in every process, so a key says nothing outside it. */
const KEY_SECRET = randomBytes(32);

/**
 * Which open store a Redis credential gets: one per everything that defines its connection,
 * so that a credential with another password, user or TLS setting never gets another's
 * authenticated connection. The password goes in only as a keyed hash.
 */
export function redisStoreKey(settings: RedisSettings): string {
	const password = settings.password
		? createHmac('sha256', KEY_SECRET).update(settings.password).digest('hex')
		: '';
	return `redis:${JSON.stringify([
		settings.host,
		settings.port,
		settings.user ?? '',
		password,
		settings.database ?? 0,
		Boolean(settings.ssl),
		settings.prefix ?? DEFAULT_PREFIX,
	])}`;
}

/**
 * Where the embedded store lives: n8n's storage folder for the Resilient LLM node
 * (`<n8n folder>/storage/<node type>`), worked out as n8n does for contexts without
 * getStoragePath (the alert trigger).
 */
export function embeddedStoreFile(ctx: StoreContext): string {
	const helpers = ctx.helpers as { getStoragePath?: () => string };
	if (helpers.getStoragePath && ctx.getNode().type === LLM_NODE_TYPE)
		return join(helpers.getStoragePath(), 'state.sqlite');
	return join(
		process.env.N8N_USER_FOLDER || homedir(),
		'.n8n',
		'storage',
		LLM_NODE_TYPE,
		'state.sqlite',
	);
}

export async function openStateStore(
	ctx: StoreContext,
	kind: 'embedded' | 'redis',
	credential?: ICredentialDataDecryptedObject,
): Promise<StateStore> {
	let key: string;
	let create: () => Promise<StateStore>;
	if (kind === 'redis') {
		const settings = redisSettings(
			credential ?? (await ctx.getCredentials('resilientLlmRedisApi')),
		);
		key = redisStoreKey(settings);
		create = async () => {
			const store = new RedisStateStore(settings);
			await store.connect();
			return store;
		};
	} else {
		const file = embeddedStoreFile(ctx);
		key = `sqlite:${file}`;
		create = async () => {
			mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
			return new SqliteStateStore(file);
		};
	}
	let store = open.get(key);
	if (store && !(await store.then(usable, () => false))) {
		// Its client ended (closed): its counters get one last try, then its timer stops.
		await store.then(closeCounters, () => undefined);
		store = undefined;
	}
	if (!store) {
		const opening = create();
		store = opening;
		open.set(key, opening);
		// A store that failed to open is tried again next time, not remembered broken.
		opening.catch(() => {
			if (open.get(key) === opening) open.delete(key);
		});
	}
	return store;
}

/** Closes every store this process opened, after writing their counters; the next execution opens them again. */
export async function closeStateStores(): Promise<void> {
	const stores = [...open.values()];
	open.clear();
	unhookShutdown();
	await Promise.all(
		stores.map((store) =>
			store
				.then(async (s) => {
					await closeCounters(s);
					await s.close();
				})
				.catch(() => undefined),
		),
	);
}

/** A logger as n8n hands one to nodes. */
interface Warn {
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
 * Where a node counts its tasks for the Resilience Alert: nowhere with Record Metrics for
 * Alerts off; else the store the node already opened, or the one its options name. Best
 * effort, never in the way of an item: a store that cannot be opened is logged and nothing
 * is counted.
 */
export async function alertCountersFor(
	ctx: StoreContext,
	node: {
		label: string;
		name: string;
		recordMetrics: boolean;
		kind: 'embedded' | 'redis';
		store?: StateStore;
		storeProblem?: string;
	},
	logger: Warn,
): Promise<CounterBuffer | undefined> {
	if (!node.recordMetrics) return undefined;
	let store = node.store;
	if (!store && !node.storeProblem) {
		store = await openStateStore(ctx, node.kind).catch((error: Error) => {
			logger.warn(`${node.label}: no state store for alert counters`, {
				node: node.name,
				error: error.message,
			});
			return undefined;
		});
	}
	return store ? countersOf(store, logger) : undefined;
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

async function closeCounters(store: StateStore): Promise<void> {
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

function unhookShutdown(): void {
	if (!shutdownHooked) return;
	shutdownHooked = false;
	reraise.clear();
	for (const signal of SHUTDOWN_SIGNALS) process.removeListener(signal, onShutdownSignal);
	process.removeListener('beforeExit', onBeforeExit);
}

/** A store closed for good (a Redis client that ended) is replaced, not handed out. */
function usable(store: StateStore): boolean {
	return !(store instanceof RedisStateStore) || store.usable;
}
