/**
 * The state store Resilient LLM nodes share breaker, idempotency and alert state through:
 * one per file or Redis server, opened once per n8n process and kept for later executions.
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
} from 'n8n-workflow';

import { RedisStateStore } from '../../lib/state/redisStore';
import type { RedisSettings } from '../../lib/state/redisStore';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import type { StateStore } from '../../lib/state/types';

/** The Resilient LLM node's type, whose n8n storage folder holds the embedded store. */
export const LLM_NODE_TYPE = 'n8n-nodes-resilient-llm.resilientLlm';

const open = new Map<string, Promise<StateStore>>();

export function redisSettings(credential: ICredentialDataDecryptedObject): RedisSettings {
	return {
		host: String(credential.host ?? '127.0.0.1'),
		port: Number(credential.port ?? 6379),
		user: credential.user ? String(credential.user) : undefined,
		password: credential.password ? String(credential.password) : undefined,
		database: Number(credential.database ?? 0),
		ssl: Boolean(credential.ssl),
	};
}

/**
 * Where the embedded store lives: n8n's storage folder for the Resilient LLM node
 * (`<n8n folder>/storage/<node type>`), worked out as n8n does for contexts without
 * getStoragePath (the alert trigger).
 */
export function embeddedStoreFile(ctx: IExecuteFunctions | IPollFunctions): string {
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
	ctx: IExecuteFunctions | IPollFunctions,
	kind: 'embedded' | 'redis',
	credential?: ICredentialDataDecryptedObject,
): Promise<StateStore> {
	let key: string;
	let create: () => Promise<StateStore>;
	if (kind === 'redis') {
		const settings = redisSettings(
			credential ?? (await ctx.getCredentials('resilientLlmRedisApi')),
		);
		key = `redis:${settings.user ?? ''}@${settings.host}:${settings.port}/${settings.database}`;
		create = async () => {
			const store = new RedisStateStore(settings);
			await store.connect();
			return store;
		};
	} else {
		const file = embeddedStoreFile(ctx);
		key = `sqlite:${file}`;
		create = async () => {
			mkdirSync(dirname(file), { recursive: true });
			return new SqliteStateStore(file);
		};
	}
	let store = open.get(key);
	if (!store) {
		store = create();
		open.set(key, store);
		// A store that failed to open is tried again next time, not remembered broken.
		store.catch(() => open.delete(key));
	}
	return store;
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
