/**
 * Which credential a tier uses: its provider's own slot when one is selected on the node,
 * else the provider's fallback slot (a self-hosted OpenAI-compatible server's, for Ollama).
 */
import type { ICredentialDataDecryptedObject } from 'n8n-workflow';

import type { providerOf } from '../../lib/providers/registry';

type Descriptor = ReturnType<typeof providerOf>;
type Slot = { readonly type: string; readonly displayName: string };

export interface TierCredential {
	slot: Slot;
	/** Undefined or null when neither slot has one selected. */
	credential: ICredentialDataDecryptedObject | null | undefined;
	/** Whether it came from the fallback slot, whose key goes nowhere else. */
	fromFallback: boolean;
}

export async function tierCredentialOf(
	descriptor: Descriptor,
	/** A slot's credential, or nothing when none is selected there. */
	read: (type: string) => Promise<ICredentialDataDecryptedObject | null | undefined>,
): Promise<TierCredential> {
	const credential = await read(descriptor.credential.type);
	const fallback = descriptor.fallbackCredential;
	if (!credential && fallback) {
		const fromFallback = await read(fallback.type);
		if (fromFallback) return { slot: fallback, credential: fromFallback, fromFallback: true };
		return { slot: descriptor.credential, credential: fromFallback, fromFallback: false };
	}
	return { slot: descriptor.credential, credential, fromFallback: false };
}
