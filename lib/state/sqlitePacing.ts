/** The pacing table of the embedded store: one JSON row per circuit (pacingRules.ts reads it). */
import type { DatabaseSync } from 'node:sqlite';

import { paceRowOf } from './pacingRules';
import type { PaceRow } from './pacingRules';

export function readPaceRow(db: DatabaseSync, circuit: string): PaceRow {
	const stored = db.prepare('SELECT row FROM pacing WHERE circuit = ?').get(circuit) as
		| { row: string }
		| undefined;
	return paceRowOf(stored ? JSON.parse(stored.row) : undefined);
}

export function writePaceRow(db: DatabaseSync, circuit: string, row: PaceRow): void {
	db.prepare(
		'INSERT INTO pacing (circuit, row) VALUES (?, ?) ON CONFLICT(circuit) DO UPDATE SET row = excluded.row',
	).run(circuit, JSON.stringify(row));
}
