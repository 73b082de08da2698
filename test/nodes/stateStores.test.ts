/**
 * The stores a node opens are kept for later executions, one per connection: a Redis
 * credential gets a connection made with its own password, user and TLS setting, never one
 * another credential authenticated.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import Redis from 'ioredis';
import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import {
	closeStateStores,
	openStateStore,
	redisSettings,
	redisStoreKey,
} from '../../nodes/shared/stateStores';
import { RedisServer } from '../harness/redis';
import { TEST_BREAKER_POLICY as POLICY } from '../support/breakerPolicy';

const PASSWORD = 'correct horse battery staple';
let server: RedisServer;
before(async () => {
	server = await RedisServer.start();
	const client = new Redis({ host: '127.0.0.1', port: server.port, lazyConnect: true });
	await client.connect();
	await client.config('SET', 'requirepass', PASSWORD);
	client.disconnect();
});
after(async () => {
	await closeStateStores();
	await server?.stop();
});

/** Only the credential is read: the context is not needed when it is given. */
const open = (credential: ICredentialDataDecryptedObject) =>
	openStateStore(undefined as never, 'redis', credential);

describe('Redis stores kept across executions', () => {
	const credential = (fields: ICredentialDataDecryptedObject = {}) => ({
		host: '127.0.0.1',
		port: server.port,
		database: 0,
		prefix: 'cache:',
		password: PASSWORD,
		...fields,
	});

	it('a credential with a wrong or no password, or TLS on, does not get the connection another credential authenticated', async () => {
		const store = await open(credential());
		assert.equal(await store.admit('openai/gpt-4o-mini', POLICY), 'probe', 'authenticated');
		await assert.rejects(open(credential({ password: 'wrong password' })), /WRONGPASS|invalid/i);
		await assert.rejects(open(credential({ password: '' })), /NOAUTH|Authentication required/i);
		await assert.rejects(open(credential({ ssl: true })), /unreachable/);
		assert.equal(await open(credential()), store, 'the same credential gets the same store');
	});

	it('keys the password only as a hash', () => {
		const key = redisStoreKey(redisSettings(credential()));
		assert.ok(!key.includes(PASSWORD), key);
		assert.ok(!key.includes('horse'), key);
		assert.notEqual(key, redisStoreKey(redisSettings(credential({ password: 'other' }))));
		assert.notEqual(key, redisStoreKey(redisSettings(credential({ user: 'someone' }))));
		assert.notEqual(key, redisStoreKey(redisSettings(credential({ ssl: true }))));
	});
});
