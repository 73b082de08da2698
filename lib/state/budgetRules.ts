/**
 * The spend budget's rules, as pure functions of its stored row, one row per budget and
 * period. Every state store applies exactly these inside one atomic operation: the embedded
 * store as they are, the Redis store as their Lua translation (redisBudgetScripts.ts), held
 * to these functions by test/state/budgetRules.test.ts. A change here is made there too.
 *
 * A call reserves its worst cost before it goes (a hold), and settles its actual cost when
 * it ends: the hold goes, the cost is added to what was spent. Calls in flight together can
 * never reserve past the cap. Amounts are whole micro-dollars, so that sums are exact.
 */

export interface BudgetRow {
	spentMicros: number;
	/** Calls in flight: their id, their reserved micro-dollars, and when their hold lapses. */
	holds: Record<string, [number, number]>;
}

/** One call asking to spend. */
export interface BudgetRequest {
	id: string;
	/** Its worst cost, in micro-dollars. */
	micros: number;
	/** The budget, in micro-dollars. */
	capMicros: number;
	/** How long its hold lasts at most: a worker that died frees its reservation. */
	leaseMs: number;
}

/** What a call cost in the end. */
export interface BudgetSettlement {
	id: string;
	actualMicros: number;
}

export interface BudgetSnapshot {
	spentMicros: number;
	/** Reserved by calls in flight. */
	heldMicros: number;
	/** What is left of the cap for further calls, never below 0. */
	remainingMicros: number;
}

/** A reservation's answer, with the budget as it stands after it. */
export interface BudgetReservation extends BudgetSnapshot {
	reserved: boolean;
}

/** A whole number of micro-dollars, never negative. */
export function wholeMicros(value: number): number {
	return Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}

export function budgetRowOf(raw: unknown): BudgetRow {
	if (!raw || typeof raw !== 'object') return { spentMicros: 0, holds: {} };
	const row = raw as Partial<BudgetRow>;
	const holds: BudgetRow['holds'] = {};
	for (const [id, hold] of Object.entries(row.holds ?? {}))
		if (Array.isArray(hold)) holds[id] = [Number(hold[0]) || 0, Number(hold[1]) || 0];
	return { spentMicros: Number(row.spentMicros) || 0, holds };
}

/** Drops holds whose lease ended; what the live ones reserve. */
function liveHeld(row: BudgetRow, now: number): number {
	let held = 0;
	for (const [id, [micros, leaseUntil]] of Object.entries(row.holds)) {
		if (leaseUntil <= now) delete row.holds[id];
		else held += micros;
	}
	return held;
}

/**
 * Reserves the call's worst cost: true when it fits (spent, live holds and this call within
 * the cap), its hold then added. A call that costs nothing always goes, and holds nothing.
 */
export function reserveBudget(row: BudgetRow, request: BudgetRequest, now: number): boolean {
	const held = liveHeld(row, now);
	const micros = wholeMicros(request.micros);
	if (micros === 0) return true;
	if (row.spentMicros + held + micros > request.capMicros) return false;
	row.holds[request.id] = [micros, now + request.leaseMs];
	return true;
}

/** Frees the call's hold and adds what it cost. */
export function settleBudget(row: BudgetRow, settlement: BudgetSettlement, now: number): void {
	liveHeld(row, now);
	delete row.holds[settlement.id];
	row.spentMicros += wholeMicros(settlement.actualMicros);
}

export function budgetSnapshotOf(row: BudgetRow, capMicros: number, now: number): BudgetSnapshot {
	const heldMicros = liveHeld(row, now);
	return {
		spentMicros: row.spentMicros,
		heldMicros,
		remainingMicros: Math.max(0, capMicros - row.spentMicros - heldMicros),
	};
}
