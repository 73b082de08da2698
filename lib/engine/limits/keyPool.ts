/**
 * A key pool: one tier called with several keys of its provider (other projects or
 * organisations), each a member with its own SDK client and its own circuit, so a key that
 * hits its rate limit, runs out of quota or is revoked cools down alone while the others
 * carry on. Each try goes to the member with the most headroom; only when every member's
 * circuit is open is the tier passed over as open.
 */
import type { CircuitBreaker } from '../breaker/circuitBreaker';
import type { CallGate, CallVerdict, GatedCall, Passage, PassOptions } from '../breaker/callGate';
import type { Deadline } from '../deadline';
import type { PreparedTier } from '../preparedTier';
import type { ClassifiedFailure, ErrorClass } from '../types';
import type { Headroom, RatePacer } from './ratePacer';

/** Failures that belong to one key, not to the provider: another key may answer at once. */
export const KEY_FAILURES: ReadonlySet<ErrorClass> = new Set<ErrorClass>([
	'rate_limited',
	'quota_exhausted',
	'auth',
]);

/** Where the pool reads its members' state: the chain's breaker and pacer, when it has them. */
export interface PoolSources {
	breaker?: CircuitBreaker;
	pacer?: RatePacer;
}

/** A member as the pool weighs it for the next try. */
interface Standing {
	member: PreparedTier;
	/** Its position in the pool, 0-based. */
	at: number;
	open: boolean;
	/** It failed this task on a failure of its own key: the others go first. */
	failed: boolean;
	room: Headroom;
}

const UNKNOWN_ROOM: Headroom = {
	requestsLeft: Number.POSITIVE_INFINITY,
	inFlight: 0,
	roomNow: true,
};

/** What one try through the pool came to, and the member it went to (or was refused by). */
export interface PoolPassage<T> {
	member: PreparedTier;
	passage: Passage<T>;
}

export class KeyPool {
	/** Calls this chain sent to each member: shares the work out when nothing else tells the keys apart. */
	private readonly calls: number[];

	constructor(
		readonly members: PreparedTier[],
		private readonly sources: PoolSources,
	) {
		this.calls = members.map(() => 0);
	}

	/**
	 * One try: through the gates on the best member; when its circuit is open or its pace
	 * would hold past the deadline, on the next member whose circuit is not open. Refused by
	 * every one: held if any was held (the shortest hold), else open.
	 */
	async pass<T extends CallVerdict>(
		gate: CallGate,
		deadline: Deadline,
		options: PassOptions,
		callFor: (member: PreparedTier) => GatedCall<T>,
		failed: ReadonlySet<PreparedTier>,
	): Promise<PoolPassage<T>> {
		const tried = new Set<PreparedTier>();
		let refused: PoolPassage<T> | undefined;
		for (;;) {
			const best = await this.choose(deadline, tried, failed);
			if (best === 'deadline') return { member: this.members[0], passage: { kind: 'deadline' } };
			// Past the first member, an open circuit is not asked: only the first says why.
			if (!best || (tried.size > 0 && best.open)) break;
			tried.add(best.member);
			const passage = await gate.pass(best.member.circuit, deadline, options, callFor(best.member));
			if (passage.kind !== 'open' && passage.kind !== 'held')
				return { member: best.member, passage };
			if (!refused || isShorterHold(passage, refused.passage))
				refused = { member: best.member, passage };
		}
		return refused ?? { member: this.members[0], passage: { kind: 'deadline' } };
	}

	/**
	 * After `member` failed its try `attempt` on a failure of its own key (or its circuit
	 * opened): whether the next try goes at once, without a wait, to another member not yet
	 * failed so in this task and with room now. Counts as one of the tier's tries.
	 */
	async switchAfter(
		member: PreparedTier,
		attempt: number,
		failure: ClassifiedFailure,
		failed: Set<PreparedTier>,
		deadline: Deadline,
	): Promise<boolean> {
		if (attempt >= member.attempts || failure.leaveTier) return false;
		failed.add(member);
		const others = new Set(this.members.filter((m) => !failed.has(m)));
		if (others.size === 0) return false;
		const standings = await deadline.race(this.standings(others, failed));
		return (standings ?? []).some((s) => !s.open && s.room.roomNow);
	}

	/** The best member not yet tried, counted as called now (in the same turn as the choice). */
	private async choose(
		deadline: Deadline,
		tried: ReadonlySet<PreparedTier>,
		failed: ReadonlySet<PreparedTier>,
	): Promise<Standing | undefined | 'deadline'> {
		const left = new Set(this.members.filter((m) => !tried.has(m)));
		if (left.size === 0) return undefined;
		const standings = await deadline.race(this.standings(left, failed));
		if (!standings) return 'deadline';
		const best = standings.sort((a, b) => this.compare(a, b))[0];
		if (best) this.calls[best.at]++;
		return best;
	}

	private async standings(
		members: ReadonlySet<PreparedTier>,
		failed: ReadonlySet<PreparedTier>,
	): Promise<Standing[]> {
		const { breaker, pacer } = this.sources;
		return Promise.all(
			this.members
				.map((member, at) => ({ member, at }))
				.filter(({ member }) => members.has(member))
				.map(async ({ member, at }) => {
					const [open, room] = await Promise.all([
						breaker ? breaker.isOpen(member.circuit, true) : false,
						pacer?.headroom(member.circuit),
					]);
					return { member, at, open, failed: failed.has(member), room: room ?? UNKNOWN_ROOM };
				}),
		);
	}

	/**
	 * Best first: circuit not open, not failed this task, room now, most requests left,
	 * fewest calls in flight, fewest calls from this chain, then key order.
	 */
	private compare(a: Standing, b: Standing): number {
		return (
			Number(a.open) - Number(b.open) ||
			Number(a.failed) - Number(b.failed) ||
			Number(b.room.roomNow) - Number(a.room.roomNow) ||
			byMost(a.room.requestsLeft, b.room.requestsLeft) ||
			a.room.inFlight - b.room.inFlight ||
			this.calls[a.at] - this.calls[b.at] ||
			a.at - b.at
		);
	}
}

/** Descending, with Infinity (not known) above any number. */
function byMost(a: number, b: number): number {
	if (a === b) return 0;
	return a > b ? -1 : 1;
}

/** One try on a tier: through its key pool when it has one, else on its own circuit. */
export async function passTier<T extends CallVerdict>(
	pool: KeyPool | undefined,
	gate: CallGate,
	tier: PreparedTier,
	deadline: Deadline,
	options: PassOptions,
	callFor: (member: PreparedTier) => GatedCall<T>,
	failed: ReadonlySet<PreparedTier>,
): Promise<PoolPassage<T>> {
	if (pool) return pool.pass(gate, deadline, options, callFor, failed);
	return { member: tier, passage: await gate.pass(tier.circuit, deadline, options, callFor(tier)) };
}

function isShorterHold(passage: Passage<unknown>, than: Passage<unknown>): boolean {
	if (passage.kind !== 'held') return false;
	return than.kind !== 'held' || passage.waitMs < than.waitMs;
}
