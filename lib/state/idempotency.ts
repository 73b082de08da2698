/**
 * Runs a task at most once per key: claim the key with a lease, run, store the result.
 * A second caller with the same key gets the stored result, or waits while the first is
 * working, and takes over only when the first one's lease ran out (it died).
 */
import type { StateStore } from './types';

export interface IdempotencyOptions {
	/** Longer than the task can take: a lease that runs out means its owner died. */
	leaseMs: number;
	/** How long a stored result is served. */
	ttlMs: number;
	/** How often a waiting caller looks again. */
	pollMs?: number;
	signal?: AbortSignal;
}

export async function runOnce<T>(
	store: StateStore,
	key: string,
	owner: string,
	options: IdempotencyOptions,
	task: () => Promise<T>,
	/** Whether a result is worth keeping (a task that needs a person is tried again next time). */
	keep: (result: T) => boolean,
): Promise<{ result: T; cached: boolean }> {
	for (;;) {
		if (options.signal?.aborted)
			throw new Error('cancelled while waiting for another run of the same task');
		const claim = await store.claim(key, owner, options.leaseMs);
		if (claim.status === 'done') return { result: JSON.parse(claim.result) as T, cached: true };
		if (claim.status === 'claimed') {
			let result: T;
			try {
				result = await task();
			} catch (error) {
				await store.release(key, owner);
				throw error;
			}
			if (keep(result)) await store.complete(key, owner, JSON.stringify(result), options.ttlMs);
			else await store.release(key, owner);
			return { result, cached: false };
		}
		const wait = Math.max(10, Math.min(options.pollMs ?? 100, claim.leaseUntil - Date.now()));
		await new Promise((resolve) => setTimeout(resolve, wait));
	}
}
