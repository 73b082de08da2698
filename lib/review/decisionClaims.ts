/**
 * The first decision on an execution wins. n8n still shows a just-resumed execution as
 * waiting until the resumed run is saved, so without this a quick second POST (a double
 * click, two reviewers) would resume it twice. Claims live in this process and expire after
 * a while: by then n8n itself answers 409 for the finished execution.
 */
const CLAIM_TTL_MS = 15 * 60_000;
const claims = new Map<string, number>();

/** Returns true for the first claim on this execution, false for any later one. */
export function claimDecision(executionId: string, now = Date.now()): boolean {
	for (const [id, at] of claims) {
		if (now - at > CLAIM_TTL_MS) claims.delete(id);
		else break; // insertion order: the rest are newer
	}
	if (claims.has(executionId)) return false;
	claims.set(executionId, now);
	return true;
}
