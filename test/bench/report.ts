/**
 * What every benchmark section shares: the table rows and JSON figures it reports, the small
 * statistics it reports them with, and how it is called.
 */
import type { Profile } from '../../lib/emulator/scenario';
import type { ProviderEmulator } from '../../lib/emulator/server';

/** The API key the sections give the emulator's providers unless they need their own. */
export const KEY = 'bench-key';

/** Table rows: figure, value, note. */
export const rows: [string, string, string][] = [];
/** The JSON line's fields. */
export const figures: Record<string, number> = {};

export interface SectionContext {
	emulator: ProviderEmulator;
	/**
	 * The emulator's pacing for the sections that run a real n8n (n8n, agent, queue, slow):
	 * `instant` unless `--profile realistic` asks for real models' pace.
	 */
	profile: Profile;
}

export type Section = (context: SectionContext) => Promise<void>;

export function median(values: number[]): number {
	const sorted = [...values].sort((a, b) => a - b);
	const mid = sorted.length >> 1;
	return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function mean(values: number[]): number {
	return values.reduce((s, v) => s + v, 0) / values.length;
}

export function round(value: number, digits = 3): number {
	const f = 10 ** digits;
	return Math.round(value * f) / f;
}

export function progress(message: string): void {
	process.stderr.write(`bench: ${message}\n`);
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** n8n without the execution history the figures do not need. */
export const QUIET_N8N = {
	env: { EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'none', EXECUTIONS_DATA_SAVE_ON_PROGRESS: 'false' },
};
