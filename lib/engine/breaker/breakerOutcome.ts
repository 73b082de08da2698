import type { ErrorClass } from '../types';

/** What a failure says about the provider's health. Bad output and bad requests say nothing. */
export function breakerOutcome(
	errorClass: ErrorClass | undefined,
): 'success' | 'transient' | 'hard' | undefined {
	if (errorClass === undefined) return 'success';
	switch (errorClass) {
		case 'rate_limited':
		case 'overloaded':
		case 'server_error':
		case 'timeout':
		case 'connection':
			return 'transient';
		case 'quota_exhausted':
		case 'auth':
			return 'hard';
		default:
			return undefined;
	}
}
