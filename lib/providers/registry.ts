/**
 * The providers this package speaks to, each described once in its own folder. Adding a
 * provider is a folder with its adapter and descriptor, its id in `ProviderName` and one
 * line here; a new wire format also goes in the emulator's list of wires.
 */
import { anthropic } from './anthropic';
import { connected } from './connected';
import { gemini } from './gemini';
import { ollama } from './ollama';
import { openai } from './openai';
import { openaiCompatible } from './openaiCompatible';
import type { BuiltInProviderName, ProviderDescriptor, ProviderName } from './types';

/** The built-in providers, in the order the Provider dropdown lists them. */
export const PROVIDERS = [
	anthropic,
	gemini,
	ollama,
	openai,
	openaiCompatible,
] as const satisfies readonly ProviderDescriptor<BuiltInProviderName>[];

/** Compiles only when every BuiltInProviderName has a descriptor in PROVIDERS. */
type Undescribed = Exclude<BuiltInProviderName, (typeof PROVIDERS)[number]['id']>;
const everyNameDescribed: [Undescribed] extends [never] ? true : never = true;
void everyNameDescribed;

export type { BuiltInProviderName, ProviderName };

export const PROVIDER_NAMES: readonly BuiltInProviderName[] = PROVIDERS.map((p) => p.id);

/** Every tier kind: the built-in providers and a connected n8n chat model. */
const BY_NAME = new Map<string, ProviderDescriptor<ProviderName>>(
	[...PROVIDERS, connected].map((p) => [p.id, p]),
);

export function isProviderName(value: unknown): value is ProviderName {
	return typeof value === 'string' && BY_NAME.has(value);
}

/** The descriptor of a provider; throws for a name that is not one. */
export function providerOf(name: ProviderName): ProviderDescriptor<ProviderName> {
	const descriptor = BY_NAME.get(name);
	if (!descriptor) throw new Error(`unknown provider ${JSON.stringify(name)}`);
	return descriptor;
}
