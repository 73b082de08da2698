/**
 * The spend figure on alert items: what a workflow's calls cost today, in all and per model,
 * from the alert counters. "Today" begins at midnight in the trigger's time zone.
 */
import type { Counters } from '../state/types';

export interface SpendFigure {
	todayUsd: number;
	/** By `provider/model`. */
	byModel: Record<string, number>;
}

const DAY_MS = 86_400_000;

/** How far `timeZone`'s clocks are ahead of UTC at `epochMs`. */
function offsetMs(timeZone: string, epochMs: number): number {
	const parts = new Intl.DateTimeFormat('en-US', {
		timeZone,
		hourCycle: 'h23',
		year: 'numeric',
		month: 'numeric',
		day: 'numeric',
		hour: 'numeric',
		minute: 'numeric',
		second: 'numeric',
	}).formatToParts(new Date(epochMs));
	const n = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
	const local = Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second'));
	return local - Math.floor(epochMs / 1000) * 1000;
}

/**
 * When today began in `timeZone` (ms since the epoch), never more than a day ago: the
 * counters keep a day. A zone Intl does not know counts as UTC.
 */
export function startOfToday(timeZone: string, epochMs: number): number {
	let zone = timeZone;
	try {
		offsetMs(zone, epochMs);
	} catch {
		zone = 'UTC';
	}
	const local = epochMs + offsetMs(zone, epochMs);
	const midnight = local - (((local % DAY_MS) + DAY_MS) % DAY_MS);
	// The offset at midnight, not now: they differ on a day the clocks change.
	const start = midnight - offsetMs(zone, midnight - offsetMs(zone, epochMs));
	return Math.max(start, epochMs - DAY_MS + 60_000);
}

function round(usd: number): number {
	return Math.round(usd * 1e6) / 1e6;
}

/** A workflow's spend today from its counters since the day began (none: nothing spent). */
export function spendOf(today: Counters | undefined): SpendFigure {
	const byModel: Record<string, number> = {};
	for (const [model, usd] of Object.entries(today?.costByModel ?? {})) byModel[model] = round(usd);
	return { todayUsd: round(today?.costUsd ?? 0), byModel };
}
