/** Calls `callback` once after `ms`; the returned function cancels the call. */
export type Schedule = (ms: number, callback: () => void) => () => void;

export const realSchedule: Schedule = (ms, callback) => {
	const timer = setTimeout(callback, ms);
	return () => clearTimeout(timer);
};

/** Resolves after `ms`, or early (without throwing) when the signal aborts. */
export function sleep(
	ms: number,
	signal?: AbortSignal,
	schedule: Schedule = realSchedule,
): Promise<void> {
	if (ms <= 0 || signal?.aborted) return Promise.resolve();
	return new Promise((resolve) => {
		const cancel = schedule(ms, done);
		function done() {
			cancel();
			signal?.removeEventListener('abort', done);
			resolve();
		}
		signal?.addEventListener('abort', done, { once: true });
	});
}
