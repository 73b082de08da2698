/**
 * The providers this package speaks to, each described once in its own folder. Adding a
 * provider is a folder with its adapter and descriptor, one line here, and its wire format
 * in the emulator.
 */
import { anthropic } from './anthropic';
import { gemini } from './gemini';
import { ollama } from './ollama';
import { openai } from './openai';
import { openaiCompatible } from './openaiCompatible';
import type { ProviderDescriptor } from './types';

/** In the order the Provider dropdown lists them. */
export const PROVIDERS = [anthropic, gemini, ollama, openai, openaiCompatible] as const;

export type ProviderName = (typeof PROVIDERS)[number]['id'];

export const PROVIDER_NAMES: readonly ProviderName[] = PROVIDERS.map((p) => p.id);

const BY_NAME = new Map<string, ProviderDescriptor<ProviderName>>(PROVIDERS.map((p) => [p.id, p]));

export function isProviderName(value: unknown): value is ProviderName {
	return typeof value === 'string' && BY_NAME.has(value);
}

/** The descriptor of a provider; throws for a name that is not one. */
export function providerOf(name: ProviderName): ProviderDescriptor<ProviderName> {
	const descriptor = BY_NAME.get(name);
	if (!descriptor) throw new Error(`unknown provider ${JSON.stringify(name)}`);
	return descriptor;
}
