/**
 * When to alert: over a window, the share of tasks answered below tier 1 or escalated to a
 * person crosses a threshold, or a circuit breaker is open. One event when an incident
 * starts, one when it ends; nothing in between, however often this is asked.
 */
import type { Counters } from '../state/types';

export interface AlertThresholds {
	/** Share of tasks answered by tier 2 or later, 0..1. */
	fallbackRate: number;
	/** Share of tasks that went to a person, 0..1. */
	escalationRate: number;
	/** Fewer tasks than this in the window say nothing either way. */
	minTasks: number;
	alertOnBreaker: boolean;
}

export type AlertKind = 'fallback_rate' | 'escalation_rate' | 'breaker_open';

export interface AlertEvent {
	event: 'incident' | 'recovered';
	kind: AlertKind;
	/** The workflow's ID, or for a breaker the circuit (`provider/model#endpoint`). */
	subject: string;
	/** For a breaker: its provider and model, and a hash naming its endpoint and credential. */
	provider?: string;
	model?: string;
	endpoint?: string;
	workflowName?: string;
	tasks?: number;
	rates?: { answeredBelowTier1: number; escalated: number };
	answeredByTier?: Record<string, number>;
	threshold?: number;
	costUsd?: number;
}

/** Incidents open now, by `${kind}|${subject}`: kept between polls (workflow static data). */
export type OpenIncidents = Record<string, true>;

export function evaluateAlerts(
	counters: Map<string, Counters>,
	openCircuits: string[],
	thresholds: AlertThresholds,
	open: OpenIncidents,
): { events: AlertEvent[]; open: OpenIncidents } {
	const now: OpenIncidents = {};
	const details = new Map<string, AlertEvent>();

	for (const [workflow, c] of counters) {
		if (c.tasks < thresholds.minTasks) {
			// Too few tasks to judge: an open incident stays open rather than flapping.
			for (const kind of ['fallback_rate', 'escalation_rate'] as const)
				if (open[`${kind}|${workflow}`]) now[`${kind}|${workflow}`] = true;
			continue;
		}
		const below = c.answeredByTier[1] + c.answeredByTier[2] + c.answeredByTier[3];
		const rates = {
			answeredBelowTier1: round(below / c.tasks),
			escalated: round(c.escalated / c.tasks),
		};
		const answeredByTier = Object.fromEntries(
			c.answeredByTier.map((n, i) => [i === 3 ? 'tier 4+' : `tier ${i + 1}`, n]),
		);
		const base = {
			subject: workflow,
			...(c.workflowName ? { workflowName: c.workflowName } : {}),
			tasks: c.tasks,
			rates,
			answeredByTier,
			costUsd: round(c.costUsd, 6),
		};
		const checks: Array<[AlertKind, number, number]> = [
			['fallback_rate', rates.answeredBelowTier1, thresholds.fallbackRate],
			['escalation_rate', rates.escalated, thresholds.escalationRate],
		];
		for (const [kind, rate, threshold] of checks) {
			const key = `${kind}|${workflow}`;
			details.set(key, { event: 'recovered', kind, ...base, threshold });
			if (rate >= threshold) now[key] = true;
		}
	}
	if (thresholds.alertOnBreaker)
		for (const circuit of openCircuits) now[`breaker_open|${circuit}`] = true;
	return {
		events: [
			...changes(now, open, 'incident', details),
			...changes(open, now, 'recovered', details),
		],
		open: now,
	};
}

/** An event for each incident open in `from` but not in `to`. */
function changes(
	from: OpenIncidents,
	to: OpenIncidents,
	event: AlertEvent['event'],
	details: Map<string, AlertEvent>,
): AlertEvent[] {
	return Object.keys(from)
		.filter((key) => !to[key])
		.map((key) => {
			const [kind, subject] = split(key);
			return { ...(details.get(key) ?? about(kind, subject)), event, kind, subject };
		});
}

/** What an event without counters says: for a breaker, its circuit taken apart. */
function about(kind: AlertKind, subject: string): Omit<AlertEvent, 'event'> {
	const circuit = /^([^/]+)\/(.+)#([0-9a-f]+)$/.exec(subject);
	if (kind !== 'breaker_open' || !circuit) return { kind, subject };
	return { kind, subject, provider: circuit[1], model: circuit[2], endpoint: circuit[3] };
}

function split(key: string): [AlertKind, string] {
	const at = key.indexOf('|');
	return [key.slice(0, at) as AlertKind, key.slice(at + 1)];
}

function round(value: number, digits = 3): number {
	const f = 10 ** digits;
	return Math.round(value * f) / f;
}
