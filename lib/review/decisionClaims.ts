/**
 * The first decision on a wait wins. n8n still shows a just-resumed execution as waiting
 * until the resumed run is saved, so without this a quick second POST (a double click, two
 * reviewers) would resume it twice.
 *
 * A wait is one Human Review node waiting in one execution at one run of that node: a second
 * review node in the same execution, or the same node again in a loop, is a wait of its own.
 * Claims are kept in the state store, where every n8n process serving review links sees them,
 * and in this process as well, which still catches a double click while the store is away.
 * They expire after a while: by then n8n itself answers 409 for the finished execution.
 */
import { createHash, randomUUID } from 'node:crypto';

import type { IdempotencyStore } from '../state/types';

export const CLAIM_TTL_MS = 15 * 60_000;

export interface Wait {
	executionId: string;
	/** The Human Review node's name, unique in its workflow. */
	node: string;
	/** Which run of that node is waiting: 0 the first time, 1 the second time round a loop. */
	runIndex: number;
}

export interface ClaimOutcome {
	/** True for the first decision on this wait, false for any later one. */
	claimed: boolean;
	/** Why the state store could not be asked, when it could not: only this process's claims held. */
	storeProblem?: string;
}

function waitHash(wait: Wait): string {
	return createHash('sha256')
		.update(JSON.stringify([wait.executionId, wait.node, wait.runIndex]))
		.digest('hex');
}

/** The claim's key in the state store. */
export function claimKey(wait: Wait): string {
	return `review:${waitHash(wait)}`;
}

const local = new Map<string, number>();

function claimLocally(key: string, now: number): boolean {
	for (const [id, at] of local) {
		if (now - at > CLAIM_TTL_MS) local.delete(id);
		else break; // insertion order: the rest are newer
	}
	if (local.has(key)) return false;
	local.set(key, now);
	return true;
}

export async function claimDecision(
	wait: Wait,
	store: IdempotencyStore | undefined,
	now = Date.now(),
): Promise<ClaimOutcome> {
	const key = claimKey(wait);
	if (!claimLocally(key, now)) return { claimed: false };
	if (!store) return { claimed: true };
	try {
		// Never completed: the lease itself is the claim, and it runs out with the TTL.
		const claim = await store.claim(key, randomUUID(), CLAIM_TTL_MS, now);
		return { claimed: claim.status === 'claimed' };
	} catch (error) {
		return { claimed: true, storeProblem: error instanceof Error ? error.message : String(error) };
	}
}
