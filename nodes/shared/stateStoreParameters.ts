/**
 * What a node that keeps state shows for it: the State Store choice, the Redis credential
 * slot that appears when Redis is chosen, and that credential's test (a PING).
 */
import type {
	ICredentialsDecrypted,
	ICredentialTestFunctions,
	INodeCredentialDescription,
	INodeCredentialTestResult,
	INodeProperties,
} from 'n8n-workflow';

import { RedisStateStore } from '../../lib/state/redisStore';
import { redisSettings } from './stateStores';

/** What the State Store choice says on a node: what it keeps there, and what Redis is for. */
export interface StateStoreTexts {
	description: string;
	redisDescription?: string;
}

/** The State Store choice, the same values and default on every node; its words are the node's. */
export function stateStoreOption(texts: StateStoreTexts): INodeProperties {
	return {
		displayName: 'State Store',
		name: 'stateStore',
		type: 'options',
		options: [
			{
				name: 'Embedded',
				value: 'embedded',
				description: 'A SQLite file in the n8n user folder, for one n8n instance',
			},
			{
				name: 'Redis',
				value: 'redis',
				...(texts.redisDescription ? { description: texts.redisDescription } : {}),
			},
		],
		default: 'embedded',
		description: texts.description,
	};
}

/** The Redis credential's test, as a node lists it under methods.credentialTest. */
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

/** A node's methods.credentialTest: the name the slot's testedBy gives, and the test. */
export const REDIS_CREDENTIAL_TESTS = { resilientLlmRedisTest: redisCredentialTest };

/**
 * A node's credentials list holding the Redis credential slot, shown only when the State
 * Store parameter says Redis: `at` is where that parameter is, `/options.stateStore` under
 * Options or `stateStore` at the top.
 */
export function redisCredentialSlots(
	at: '/options.stateStore' | 'stateStore',
): INodeCredentialDescription[] {
	return [
		{
			name: 'resilientLlmRedisApi',
			displayName: 'Redis (State Store)',
			required: true,
			testedBy: 'resilientLlmRedisTest' satisfies keyof typeof REDIS_CREDENTIAL_TESTS,
			displayOptions: { show: { [at]: ['redis'] } },
		},
	];
}
