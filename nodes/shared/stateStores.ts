/**
 * The state store Resilient LLM nodes share breaker, idempotency and alert state through
 * (and Human Review its decision claims): one per file or Redis server and key prefix,
 * opened once per n8n process and kept for later executions. A Redis store reconnects by
 * itself after an outage; one closed for good is opened afresh. Closing them writes their
 * alert counters first (alertCounters.ts).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

import type {
	ICredentialDataDecryptedObject,
	IExecuteFunctions,
	IPollFunctions,
	ISupplyDataFunctions,
	IWebhookFunctions,
} from 'n8n-workflow';

import { DEFAULT_PREFIX, RedisStateStore } from '../../lib/state/redisStore';
import type { RedisSettings } from '../../lib/state/redisStore';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import type { StateStore } from '../../lib/state/types';
import { closeCounters, unhookShutdown } from './alertCounters';

/** The Resilient LLM node's type, whose n8n storage folder holds the embedded store. */
export const LLM_NODE_TYPE = 'n8n-nodes-resilient-llm.resilientLlm';

const open = new Map<string, Promise<StateStore>>();

type StoreContext = IExecuteFunctions | ISupplyDataFunctions | IPollFunctions | IWebhookFunctions;

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

/** A store closed for good (a Redis client that ended) is replaced, not handed out. */
function usable(store: StateStore): boolean {
	return !(store instanceof RedisStateStore) || store.usable;
}
