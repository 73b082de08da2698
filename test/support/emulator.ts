/** Test fixture: one provider emulator per test file, and tiers that point at it. */
import { after, before } from 'node:test';

import type { TierConfig } from '../../lib/engine/types';
import { ProviderEmulator } from '../../lib/emulator/server';
import type { Scenario } from '../../lib/emulator/scenario';
import type { WireProvider } from '../../lib/emulator/wire';

/** Keys shaped like real ones, so a leak would be recognisable. */
export const KEYS = {
	anthropic: 'sk-ant-api03-TESTKEY-anthropic-0123456789abcdef',
	openai: 'sk-proj-TESTKEY-openai-0123456789abcdef',
	gemini: 'AIzaSyTESTKEY-gemini-0123456789abcdefgh',
	ollama: 'ollama-TESTKEY-0123456789abcdef',
} as const;

export const MODELS: Record<WireProvider, string> = {
	anthropic: 'claude-haiku-4-5',
	openai: 'gpt-4o-mini',
	gemini: 'gemini-2.5-flash',
	ollama: 'llama3.2',
};

export const WIRE_PROVIDERS: WireProvider[] = ['anthropic', 'openai', 'gemini', 'ollama'];

/** Starts an emulator before the file's tests and stops it after. */
export function useEmulator(scenario: Scenario = {}): { emulator: ProviderEmulator } {
	const holder = { emulator: new ProviderEmulator({ scenario }) };
	before(async () => {
		await holder.emulator.start();
	});
	after(async () => {
		await holder.emulator.stop();
	});
	return holder;
}

export function tier(
	emulator: ProviderEmulator,
	provider: WireProvider,
	overrides: Partial<TierConfig> = {},
): TierConfig {
	return {
		provider,
		model: MODELS[provider],
		apiKey: KEYS[provider],
		baseUrl: emulator.urls[provider],
		attempts: 3,
		timeoutMs: 5_000,
		...overrides,
	};
}

/** Small, deterministic backoff: the n-th retry waits exactly initial * 2^(n-1) / 2. */
export const FAST_BACKOFF = { initialDelayMs: 20, maxDelayMs: 200, maxHintMs: 60_000 };
export const HALF = () => 0.5;
