import { createHash } from 'node:crypto';

import type { ConnectedNode, TierConfig } from '../types';

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
	tier: Pick<TierConfig, 'provider' | 'model' | 'baseUrl' | 'apiKey' | 'connected'>,
): string {
	if (tier.provider === 'connected' && tier.connected)
		return connectedCircuit(tier.model, tier.connected);
	const endpoint = createHash('sha256')
		.update(JSON.stringify([tier.provider, endpointOf(tier.baseUrl), tier.apiKey ?? '']))
		.digest('hex')
		.slice(0, 16);
	return `${tier.provider}/${tier.model}#${endpoint}`;
}

/**
 * A connected model's circuit: `nodeType/model#credential`, keyed by the credential's id (not
 * its secret), so two nodes on one key and model share a circuit across workflows; without
 * an id, by the node's name.
 */
function connectedCircuit(model: string, node: ConnectedNode): string {
	const owner = createHash('sha256')
		.update(JSON.stringify([node.nodeType, node.credentialId ?? `node:${node.node}`]))
		.digest('hex')
		.slice(0, 16);
	return `${node.nodeType.replace(/^.*\./, '')}/${model}#${owner}`;
}
