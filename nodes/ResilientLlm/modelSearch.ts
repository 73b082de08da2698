/**
 * The Model picker's list: the models the tier's provider offers to the credential selected
 * on the node, read from the provider's own list endpoint. "By ID" stays open for anything
 * the list does not show, or when listing fails.
 */
import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { redact } from '../../lib/engine/classifyError';
import { isProviderName, providerOf } from '../../lib/providers/registry';

/** A parameter's literal text; an expression cannot be resolved while the editor lists. */
function literal(value: unknown): string {
	return typeof value === 'string' && !value.startsWith('=') ? value.trim() : '';
}

export async function listModels(
	this: ILoadOptionsFunctions,
	filter?: string,
): Promise<INodeListSearchResult> {
	// '&' reads the sibling fields of the tier whose Model is being picked.
	const provider: unknown = this.getCurrentNodeParameter('&provider');
	if (!isProviderName(provider)) {
		throw new NodeOperationError(this.getNode(), "Choose the tier's Provider first");
	}
	const descriptor = providerOf(provider);
	const tierBaseUrl =
		literal(this.getCurrentNodeParameter('&tierOptions.baseUrl')) ||
		literal(this.getCurrentNodeParameter('&baseUrl'));
	// n8n throws for a credential slot that is left empty; that is the case handled just below.
	const credential = this.getNode().credentials?.[descriptor.credential.type]
		? await this.getCredentials(descriptor.credential.type)
		: undefined;
	if (!credential && !(descriptor.baseUrlReplacesCredential && tierBaseUrl)) {
		throw new NodeOperationError(
			this.getNode(),
			`Select a "${descriptor.credential.displayName}" credential on this node to list ${descriptor.label} models, or choose By ID and type the model name`,
		);
	}
	const apiKey = credential?.apiKey ? String(credential.apiKey) : undefined;
	let models;
	try {
		models = await descriptor.listModels({
			apiKey,
			baseUrl: tierBaseUrl || literal(credential?.baseUrl) || undefined,
		});
	} catch (error) {
		const reason = redact((error as Error).message, apiKey ? [apiKey] : []);
		throw new NodeOperationError(
			this.getNode(),
			`Could not list ${descriptor.label} models (${reason}). Choose By ID to type the model name.`,
		);
	}
	const wanted = (filter ?? '').trim().toLowerCase();
	const results = models
		.filter(
			(m) =>
				!wanted ||
				m.id.toLowerCase().includes(wanted) ||
				(m.name ?? '').toLowerCase().includes(wanted),
		)
		.sort((a, b) => a.id.localeCompare(b.id))
		.map((m) => ({
			name: m.name && m.name !== m.id ? `${m.name} (${m.id})` : m.id,
			value: m.id,
		}));
	return { results };
}
