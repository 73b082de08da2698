import { providerOf } from './registry';
import type { AdapterSettings, ProviderAdapter, ProviderName } from './types';

export { PROVIDERS, PROVIDER_NAMES, isProviderName, providerOf } from './registry';
export type {
	ProviderAdapter,
	ProviderDescriptor,
	ProviderName,
	CompletionRequest,
	CompletionResponse,
	CallOptions,
	Connection,
	ModelInfo,
} from './types';
export { ModelListError } from './modelList';

/** The adapter for a provider, as its descriptor makes it. */
export function createAdapter(provider: ProviderName, settings: AdapterSettings): ProviderAdapter {
	return providerOf(provider).createAdapter(settings);
}
