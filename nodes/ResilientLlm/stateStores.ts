/**
 * The state store a Resilient LLM node shares breaker and idempotency state through: one
 * per file or Redis server, opened once per n8n process and kept for later executions.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import type { ICredentialDataDecryptedObject, IExecuteFunctions } from 'n8n-workflow';

import { RedisStateStore } from '../../lib/state/redisStore';
import type { RedisSettings } from '../../lib/state/redisStore';
import { SqliteStateStore } from '../../lib/state/sqliteStore';
import type { StateStore } from '../../lib/state/types';

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

export async function openStateStore(
	ctx: IExecuteFunctions,
	kind: 'embedded' | 'redis',
	itemIndex: number,
): Promise<StateStore> {
	let key: string;
	let create: () => Promise<StateStore>;
	if (kind === 'redis') {
		const settings = redisSettings(await ctx.getCredentials('resilientLlmRedisApi', itemIndex));
		key = `redis:${settings.user ?? ''}@${settings.host}:${settings.port}/${settings.database}`;
		create = async () => {
			const store = new RedisStateStore(settings);
			await store.connect();
			return store;
		};
	} else {
		// n8n's own storage folder for this node type, inside its user folder.
		const folder = ctx.helpers.getStoragePath();
		const file = join(folder, 'state.sqlite');
		key = `sqlite:${file}`;
		create = async () => {
			mkdirSync(folder, { recursive: true });
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
