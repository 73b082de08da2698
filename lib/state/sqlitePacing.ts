/**
 * The embedded store's paces: each acquire and settle is one write transaction on the file,
 * applying pacingRules.ts. Not synced to disk: a pace is relearned from the next answer.
 */
import { acquirePace, paceRowOf, paceSnapshotOf, settlePace } from './pacingRules';
import type { PaceOutcome, PaceRequest, PaceRow, PaceSnapshot } from './pacingRules';
import type { SqliteFile } from './sqliteFile';
import type { PacingStore } from './types';

export class SqlitePacing implements PacingStore {
	constructor(private readonly sqlite: SqliteFile) {}

	private row(circuit: string): PaceRow {
		const stored = this.sqlite.db
			.prepare('SELECT row FROM pacing WHERE circuit = ?')
			.get(circuit) as { row: string } | undefined;
		return paceRowOf(stored ? JSON.parse(stored.row) : undefined);
	}

	private save(circuit: string, row: PaceRow): void {
		this.sqlite.db
			.prepare(
				'INSERT INTO pacing (circuit, row) VALUES (?, ?) ON CONFLICT(circuit) DO UPDATE SET row = excluded.row',
			)
			.run(circuit, JSON.stringify(row));
	}

	async acquirePace(circuit: string, request: PaceRequest, now = Date.now()): Promise<number> {
		return this.sqlite.transaction(() => {
			const row = this.row(circuit);
			const waitMs = acquirePace(row, request, now);
			this.save(circuit, row);
			return waitMs;
		}, false);
	}

	async settlePace(circuit: string, outcome: PaceOutcome, now = Date.now()): Promise<void> {
		await this.sqlite.transaction(() => {
			const row = this.row(circuit);
			settlePace(row, outcome, now);
			this.save(circuit, row);
		}, false);
	}

	async paceSnapshot(circuit: string, now = Date.now()): Promise<PaceSnapshot> {
		return paceSnapshotOf(this.row(circuit), now);
	}
}
