/** How many items Resilient LLM sends at once, and the pool that keeps to it. */

const MAX_CONCURRENCY = 64;

/** Options › Concurrency as a whole number of items in flight, or why it is not one. */
export function concurrencyOf(value: unknown): number | string {
	const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
	if (typeof n !== 'number' || !Number.isFinite(n) || n < 1) {
		return `Options › Concurrency must be a number from 1 to ${MAX_CONCURRENCY}, got ${JSON.stringify(value)}`;
	}
	return Math.min(MAX_CONCURRENCY, Math.floor(n));
}

/**
 * Runs `work` over `count` positions with at most `limit` in flight, handing out no new
 * position once `stop()` says so. `work` deals with its own errors.
 */
export async function inPool(
	count: number,
	limit: number,
	stop: () => boolean,
	work: (position: number) => Promise<void>,
): Promise<void> {
	let next = 0;
	const worker = async () => {
		while (next < count && !stop()) await work(next++);
	};
	await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, count)) }, worker));
}
