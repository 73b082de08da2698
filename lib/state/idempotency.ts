/**
 * Runs a task at most once per key: claim the key with a lease, run, store the result.
 * A second caller with the same key gets the stored result, or waits while the first is
 * working, and takes over only when the first one's lease ran out (it died). The owner
 * renews its lease while it works, so a slow task is not taken for a dead one.
 */
import { StoreGuard } from './storeGuard';
import type { IdempotencyStore } from './types';

export interface IdempotencyOptions {
	/** Longer than the task can take: a lease that runs out means its owner died. */
	leaseMs: number;
	/** How often the owner renews its lease while it works; a third of the lease unless set. */
	renewEveryMs?: number;
	/** How long a stored result is served. */
	ttlMs: number;
	/** How often a waiting caller looks again. */
	pollMs?: number;
	signal?: AbortSignal;
	/** What a failing store means for this task (storeGuard.ts); by default it fails. */
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
			const lease = keepLease(store, key, owner, options.leaseMs, options.renewEveryMs);
			try {
				result = await task();
			} catch (error) {
				await lease.stop();
				// The lease runs out by itself if this fails too.
				await guard.after('releasing the idempotency key', () => store.release(key, owner));
				throw error;
			}
			await lease.stop();
			// Stored even if the lease was lost meanwhile, unless another run stored an answer first.
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

export interface LeaseKeeper {
	/** Stops renewing, once a renewal in flight has finished. */
	stop(): Promise<void>;
	/** True once a renewal found the key another's (taken over, or an answer stored). */
	readonly lost: boolean;
}

/**
 * Renews the owner's lease every `everyMs` (a third of the lease unless set) until stopped.
 * A renewal the store fails is tried again at the next turn; the lease lasts meanwhile.
 */
export function keepLease(
	store: IdempotencyStore,
	key: string,
	owner: string,
	leaseMs: number,
	everyMs = leaseMs / 3,
): LeaseKeeper {
	let stopped = false;
	let lost = false;
	let renewing: Promise<unknown> = Promise.resolve();
	let timer: NodeJS.Timeout | undefined;
	const next = () => {
		timer = setTimeout(
			() => {
				renewing = store.renew(key, owner, leaseMs).then(
					(owned) => {
						lost ||= !owned;
						if (!stopped && !lost) next();
					},
					() => {
						if (!stopped) next();
					},
				);
			},
			Math.max(1, everyMs),
		);
		// Renewal alone keeps no process alive: the task it runs beside does.
		timer.unref();
	};
	next();
	return {
		async stop() {
			stopped = true;
			clearTimeout(timer);
			await renewing;
		},
		get lost() {
			return lost;
		},
	};
}
