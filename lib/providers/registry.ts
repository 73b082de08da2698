/**
 * The providers this package speaks to, each described once in its own folder. Adding a
 * provider is a folder with its adapter and descriptor, its id in `ProviderName` and one
 * line here; a new wire format also goes in the emulator's list of wires.
 */
import { anthropic } from './anthropic';
import { gemini } from './gemini';
import { ollama } from './ollama';
import { openai } from './openai';
import { openaiCompatible } from './openaiCompatible';
import type { ProviderDescriptor, ProviderName } from './types';

/** In the order the Provider dropdown lists them. */
export const PROVIDERS = [
	anthropic,
	gemini,
	ollama,
	openai,
	openaiCompatible,
] as const satisfies readonly ProviderDescriptor<ProviderName>[];

/** Compiles only when every ProviderName has a descriptor in PROVIDERS. */
type Undescribed = Exclude<ProviderName, (typeof PROVIDERS)[number]['id']>;
const everyNameDescribed: [Undescribed] extends [never] ? true : never = true;
void everyNameDescribed;

export type { ProviderName };

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
