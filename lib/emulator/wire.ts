/**
 * The wire formats the emulator speaks: each one lives in its provider's folder
 * (`lib/providers/<name>/wire.ts`); this is the emulator's list of them.
 */
import { anthropicWire } from '../providers/anthropic/wire';
import { geminiWire } from '../providers/gemini/wire';
import { ollamaWire } from '../providers/ollama/wire';
import { openaiWire } from '../providers/openai/wire';
import type { WireFormat } from '../providers/types';
import type { ProviderWire } from '../providers/wireFormat';

export { HTTP_FAULTS, OUTPUT_FAULTS } from '../providers/wireFormat';
export type {
	ConversationShape,
	Finish,
	HttpFault,
	OutputFault,
	ProviderWire,
	StreamErrorFault,
	StreamPieces,
	WireAnswer,
	WireResponse,
	WireStream,
	WireToolCall,
} from '../providers/wireFormat';

/** The wire formats the emulator speaks, as the provider registry names them. */
export type WireProvider = WireFormat;

/** Every wire format the registry names, each with its wire. */
const BY_NAME: Record<WireProvider, ProviderWire> = {
	anthropic: anthropicWire,
	openai: openaiWire,
	gemini: geminiWire,
	ollama: ollamaWire,
};

/** In the order the emulator lists them (its command, scenario messages). */
export const WIRES: readonly ProviderWire[] = Object.values(BY_NAME);

export const WIRE_PROVIDERS: readonly WireProvider[] = WIRES.map((wire) => wire.name);

export function wireOf(name: WireProvider): ProviderWire {
	return BY_NAME[name];
}

/** Whether a rule or a limit entry covers a call: its provider, and its model or model prefix (`name*`). */
export function covers(
	entry: { provider?: WireProvider | '*'; model?: string },
	provider: WireProvider,
	model: string,
): boolean {
	if (entry.provider !== undefined && entry.provider !== '*' && entry.provider !== provider)
		return false;
	if (entry.model === undefined || entry.model === '*') return true;
	if (entry.model.endsWith('*')) return model.startsWith(entry.model.slice(0, -1));
	return entry.model === model;
}
