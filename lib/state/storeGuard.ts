/**
 * What a failing state store means for one item, decided here and nowhere else.
 * - Before any provider is called (a claim, a breaker check): the item fails ('fail'), or
 *   goes on without that piece of shared state and is marked degraded ('proceed').
 * - After an answer arrived (recording the breaker outcome, storing the answer): the write
 *   is best effort. The answer is always delivered, marked degraded when it was not written.
 */
import { StateStoreUnavailableError } from './types';

/** The node's "If State Store Is Unavailable" option. */
export type OnStoreUnavailable = 'fail' | 'proceed';

function messageOf(error: unknown): string {
	return error instanceof Error ? error.message : String(error);
}

export class StoreGuard {
	constructor(readonly mode: OnStoreUnavailable = 'fail') {}

	/**
	 * A store operation a provider call waits on. Its failure throws (the item fails before
	 * anything is spent) or yields `fallback` and the reason the item is degraded.
	 */
	async before<T>(
		what: string,
		operation: () => Promise<T>,
		fallback: T,
	): Promise<{ value: T; degraded?: string }> {
		try {
			return { value: await operation() };
		} catch (error) {
			const reason = `${what} failed: ${messageOf(error)}`;
			if (this.mode === 'fail') throw new StateStoreUnavailableError(reason);
			return { value: fallback, degraded: reason };
		}
	}

	/** A write after the fact. Never throws: returns why the item is degraded, if it is. */
	async after(what: string, operation: () => Promise<unknown>): Promise<string | undefined> {
		try {
			await operation();
			return undefined;
		} catch (error) {
			return `${what} failed: ${messageOf(error)}`;
		}
	}
}
