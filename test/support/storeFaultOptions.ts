/**
 * The options of a workflow that runs while its state store fails (the Redis and SQLite fault
 * runs, the chaos benchmark). Every option the outcome depends on is set here, because defaults
 * may change: the circuit breaker at its usual figures, idempotency by each item's key, metrics
 * recorded, four items at once.
 */
export function storeFaultOptions(
	stateStore: 'embedded' | 'redis',
	onStoreUnavailable: 'fail' | 'proceed',
	more: Record<string, unknown> = {},
): Record<string, unknown> {
	return {
		stateStore,
		onStoreUnavailable,
		circuitBreaker: true,
		breakerThreshold: 5,
		breakerCooldownSeconds: 30,
		breakerFailureRatePercent: 50,
		breakerWindowSeconds: 60,
		idempotency: 'custom',
		idempotencyKey: '={{ $json.key }}',
		recordMetrics: true,
		concurrency: 4,
		...more,
	};
}
