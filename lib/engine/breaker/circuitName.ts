import { createHash } from 'node:crypto';

import type { TierConfig } from '../types';

/** A base URL as the same endpoint however it was typed: no trailing slash. */
function endpointOf(baseUrl: string | undefined): string {
	return (baseUrl ?? '').trim().replace(/\/+$/, '');
}

/**
 * The circuit of a tier: `provider/model#endpoint`, where the endpoint part is a hash of
 * the base URL and the API key. One rejected key, or one broken server, opens only its own
 * circuit; the key itself never leaves this function.
 */
export function circuitOf(
	tier: Pick<TierConfig, 'provider' | 'model' | 'baseUrl' | 'apiKey'>,
): string {
	const endpoint = createHash('sha256')
		.update(JSON.stringify([tier.provider, endpointOf(tier.baseUrl), tier.apiKey ?? '']))
		.digest('hex')
		.slice(0, 16);
	return `${tier.provider}/${tier.model}#${endpoint}`;
}
