/**
 * The state store Resilient LLM nodes share breaker, idempotency and alert state through
 * (and Human Review its decision claims): one per file or Redis server and key prefix,
 * opened once per n8n process and kept for later executions. A Redis store reconnects by
 * itself after an outage; one closed for good is opened afresh.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

import type {
	ICredentialDataDecryptedObject,
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	IExecuteFunctions,
	INodeCredentialTestResult,
	IPollFunctions,
	IWebhookFunctions,
} from 'n8n-workflow';

import { DEFAULT_PREFIX, RedisStateStore } from '../../lib/state/redisStore';
import type { RedisSettings } from '../../lib/state/redisStore';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import type { StateStore } from '../../lib/state/types';

/** The Resilient LLM node's type, whose n8n storage folder holds the embedded store. */
export const LLM_NODE_TYPE = 'n8n-nodes-resilient-llm.resilientLlm';

const open = new Map<string, Promise<StateStore>>();

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
		key = `redis:${settings.user ?? ''}@${settings.host}:${settings.port}/${settings.database}/${settings.prefix}`;
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
	if (store && !(await store.then(usable, () => false))) store = undefined;
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

/** Closes every store this process opened; the next execution opens them again. */
export async function closeStateStores(): Promise<void> {
	const stores = [...open.values()];
	open.clear();
	await Promise.all(stores.map((store) => store.then((s) => s.close()).catch(() => undefined)));
}

/** A store closed for good (a Redis client that ended) is replaced, not handed out. */
function usable(store: StateStore): boolean {
	return !(store instanceof RedisStateStore) || store.usable;
}

/** The Redis credential's test (a PING), for every node that offers the Redis store. */
export async function redisCredentialTest(
	this: ICredentialTestFunctions,
	credential: ICredentialsDecrypted,
): Promise<INodeCredentialTestResult> {
	const store = new RedisStateStore(redisSettings(credential.data ?? {}));
	try {
		await store.connect();
		return { status: 'OK', message: 'Connection successful' };
	} catch (error) {
		return { status: 'Error', message: (error as Error).message };
	} finally {
		await store.close();
	}
}
