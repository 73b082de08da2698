/** One emulator and one real n8n per test file, with a credential per provider pointing at the emulator. */
import { after, before } from 'node:test';

import { ProviderEmulator } from '../../lib/emulator/server';
import { N8n } from '../harness/n8n';
import type { N8nOptions } from '../harness/n8n';
import { KEYS } from './emulator';
import type { CredentialRefs } from './workflows';

export interface N8nContext {
	n8n: N8n;
	emulator: ProviderEmulator;
	/** All four credentials, as a node's `credentials` field wants them. */
	credentials: CredentialRefs;
}

export const CREDENTIAL_TYPES = {
	anthropic: 'resilientLlmAnthropicApi',
	openai: 'resilientLlmOpenAiApi',
	gemini: 'resilientLlmGeminiApi',
	ollama: 'resilientLlmOllamaApi',
} as const;

/** `options` may be made from the started emulator (an environment variable naming its URL). */
export function useN8n(
	options: N8nOptions | ((emulator: ProviderEmulator) => N8nOptions) = {},
): N8nContext {
	const ctx = { emulator: new ProviderEmulator() } as N8nContext;
	before(async () => {
		await ctx.emulator.start();
		// The emulator checks keys, so a credential that does not reach the node would show.
		ctx.emulator.loadScenario({ apiKeys: KEYS });
		ctx.n8n = await N8n.start(typeof options === 'function' ? options(ctx.emulator) : options);
		ctx.credentials = await emulatorCredentials(ctx.n8n, ctx.emulator);
	});
	after(async () => {
		await ctx.n8n?.dispose();
		await ctx.emulator.stop();
	});
	return ctx;
}

/** One credential per provider pointing at the emulator, as a node's `credentials` field wants them. */
export async function emulatorCredentials(
	n8n: N8n,
	emulator: ProviderEmulator,
): Promise<CredentialRefs> {
	const credentials: CredentialRefs = {};
	for (const [provider, type] of Object.entries(CREDENTIAL_TYPES) as Array<
		[keyof typeof CREDENTIAL_TYPES, string]
	>) {
		const name = `Emulator ${provider}`;
		const id = await n8n.createCredential(name, type, {
			apiKey: KEYS[provider],
			baseUrl: emulator.urls[provider],
		});
		credentials[type] = { id, name };
	}
	return credentials;
}
