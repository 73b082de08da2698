/**
 * Runs a task at most once per key: claim the key with a lease, run, store the result.
 * A second caller with the same key gets the stored result, or waits while the first is
 * working, and takes over only when the first one's lease ran out (it died).
 */
import { StoreGuard } from './storeTrouble';
import type { IdempotencyStore } from './types';

export interface IdempotencyOptions {
	/** Longer than the task can take: a lease that runs out means its owner died. */
	leaseMs: number;
	/** How long a stored result is served. */
	ttlMs: number;
	/** How often a waiting caller looks again. */
	pollMs?: number;
	signal?: AbortSignal;
	/** What a failing store means for this task (storeTrouble.ts); by default it fails. */
	guard?: StoreGuard;
}

export async function runOnce<T>(
	store: IdempotencyStore,
	key: string,
	owner: string,
	options: IdempotencyOptions,
	task: () => Promise<T>,
	/** Whether a result is worth keeping (a task that needs a person is tried again next time). */
	keep: (result: T) => boolean,
): Promise<{ result: T; cached: boolean; degraded?: string }> {
	const guard = options.guard ?? new StoreGuard();
	for (;;) {
		if (options.signal?.aborted)
			throw new Error('cancelled while waiting for another run of the same task');
		const { value: claim, degraded } = await guard.before(
			'claiming the idempotency key',
			() => store.claim(key, owner, options.leaseMs),
			undefined,
		);
		if (claim === undefined) return { result: await task(), cached: false, degraded };
		if (claim.status === 'done') return { result: JSON.parse(claim.result) as T, cached: true };
		if (claim.status === 'claimed') {
			let result: T;
			try {
				result = await task();
			} catch (error) {
				// The lease runs out by itself if this fails too.
				await guard.after('releasing the idempotency key', () => store.release(key, owner));
				throw error;
			}
			const unwritten = keep(result)
				? await guard.after('storing the answer for idempotency', () =>
						store.complete(key, owner, JSON.stringify(result), options.ttlMs),
					)
				: await guard.after('releasing the idempotency key', () => store.release(key, owner));
			return { result, cached: false, ...(unwritten ? { degraded: unwritten } : {}) };
		}
		const wait = Math.max(10, Math.min(options.pollMs ?? 100, claim.leaseUntil - Date.now()));
		await new Promise((resolve) => setTimeout(resolve, wait));
	}
}
