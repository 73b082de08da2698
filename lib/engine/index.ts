export { FailoverChain, DEFAULTS } from './failoverChain';
export type { ChainEvents, ChainDependencies } from './failoverChain';
export { classifyError, classifyOutput, redact } from './classifyError';
export { nextStep, RETRY_SAME_MODEL } from './nextStep';
export { ConfigError } from './configError';
export { PRICE_TABLE, priceFor, costUsd } from './pricing';
export { DEFAULT_BACKOFF, fullJitterDelay } from './backoff';
export * from './types';
