/**
 * The Model picker's list: the models the tier's provider offers to the credential selected
 * on the node, read from the provider's own list endpoint, with the key going only to that
 * credential's host. "By ID" stays open for anything
 * the list does not show, or when listing fails.
 */
import type { ILoadOptionsFunctions, INodeListSearchResult } from 'n8n-workflow';
import { NodeOperationError } from 'n8n-workflow';

import { redact } from '../../lib/engine/errorText';
import { ConfigError } from '../../lib/engine/configError';
import { tierEndpoint } from '../../lib/engine/tierEndpoint';
import { isProviderName, providerOf } from '../../lib/providers/registry';
import type { Connection } from '../../lib/providers/types';
import { BASE_URL_HELP } from './fieldLabels';
import { tierCredentialOf } from './tierCredential';

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
	const connection = await pickerConnection(this, descriptor);
	let models;
	try {
		models = await descriptor.listModels(connection);
	} catch (error) {
		const apiKey = connection.apiKey;
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

/** Where the picker lists from: the tier's credential selected on the node, and its Base URL. */
async function pickerConnection(
	ctx: ILoadOptionsFunctions,
	descriptor: ReturnType<typeof providerOf>,
): Promise<Connection> {
	const tierBaseUrl =
		literal(ctx.getCurrentNodeParameter('&tierOptions.baseUrl')) ||
		literal(ctx.getCurrentNodeParameter('&baseUrl'));
	// n8n throws for a credential slot that is left empty; that is the case handled just below.
	const selected = async (type: string) =>
		ctx.getNode().credentials?.[type] ? await ctx.getCredentials(type) : undefined;
	const { slot, credential, fromFallback } = await tierCredentialOf(descriptor, selected);
	if (!credential && !(descriptor.baseUrlReplacesCredential && tierBaseUrl)) {
		throw new NodeOperationError(
			ctx.getNode(),
			`Select a "${descriptor.credential.displayName}" credential on this node to list ${descriptor.label} models, or choose By ID and type the model name`,
		);
	}
	try {
		return tierEndpoint(
			'baseUrl',
			descriptor,
			slot.displayName,
			credential,
			tierBaseUrl,
			fromFallback,
		);
	} catch (error) {
		if (!(error instanceof ConfigError))
			throw new NodeOperationError(ctx.getNode(), error as Error);
		throw new NodeOperationError(
			ctx.getNode(),
			`The tier's Base URL ${error.message.slice('baseUrl: '.length)}`,
			{ description: BASE_URL_HELP },
		);
	}
}
