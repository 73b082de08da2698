/** One throwaway redis-server per test file that runs the node with the Redis store. */
import { after, before } from 'node:test';

import { closeStateStores } from '../../nodes/shared/stateStores';
import { RedisServer } from '../harness/redis';

export function useRedis(): { server: RedisServer } {
	const holder = {} as { server: RedisServer };
	before(async () => {
		holder.server = await RedisServer.start();
	});
	after(async () => {
		// Stores reconnect for as long as the process lives: closed here so the test ends.
		await closeStateStores();
		await holder.server?.stop();
	});
	return holder;
}
