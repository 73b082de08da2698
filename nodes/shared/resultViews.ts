/**
 * A chain run's result as the nodes show it: on a Resilient LLM item as `resilience`, and
 * on a Resilient Chat Model call in its output panel. Plain data, no key.
 */
import type { IDataObject } from 'n8n-workflow';

import type { TaskResult } from '../../lib/engine/types';

/**
 * What goes on every item as `resilience`: which tier answered, why, how long, what it cost;
 * and `degraded`, why shared state could not be used or written for it, if it could not.
 */
export function resilienceOf(result: TaskResult, cached = false, degraded?: string): IDataObject {
	return {
		...(cached ? { cached: true } : {}),
		...(degraded ? { degraded } : {}),
		outcome: result.outcome,
		...(result.reason ? { reason: result.reason } : {}),
		reasonText: result.reasonText,
		...(result.tier !== undefined
			? {
					tier: result.tier,
					provider: result.provider,
					model: result.model,
					...(result.node ? { node: result.node } : {}),
				}
			: {}),
		attempts: result.attempts as unknown as IDataObject[],
		tiers: result.tiers as unknown as IDataObject[],
		latencyMs: result.latencyMs,
		...streamedViews(result),
		usage: result.usage as unknown as IDataObject,
		...costViews(result),
		priceTableVersion: result.priceTableVersion,
		...(result.budget ? { budget: { ...result.budget } } : {}),
		...(result.drill ? { drill: result.drill } : {}),
	};
}

/** A streamed run's first text and the broken stream it continued, where there were any. */
function streamedViews(result: TaskResult): IDataObject {
	return {
		...(result.firstTokenMs !== undefined ? { firstTokenMs: result.firstTokenMs } : {}),
		...(result.continuedFrom ? { continuedFrom: { ...result.continuedFrom } } : {}),
	};
}

/** One model call as the chat model's output panel and the task log show it. */
export function callSummary(result: TaskResult): IDataObject {
	return {
		outcome: result.outcome,
		...(result.tier !== undefined
			? { tier: result.tier, provider: result.provider, model: result.model }
			: { reasonText: result.reasonText }),
		attempts: result.attempts.map((a) => ({
			tier: a.tier,
			attempt: a.attempt,
			...(a.key ? { key: a.key } : {}),
			model: a.node ? `${a.node} (${a.model})` : `${a.provider}/${a.model}`,
			status: a.status,
			...(a.errorClass ? { errorClass: a.errorClass } : {}),
			...(a.httpStatus ? { httpStatus: a.httpStatus } : {}),
			latencyMs: a.latencyMs,
			...(a.firstTokenMs !== undefined ? { firstTokenMs: a.firstTokenMs } : {}),
			...(a.sentChars ? { sentChars: a.sentChars } : {}),
		})),
		latencyMs: result.latencyMs,
		...streamedViews(result),
		usage: result.usage as unknown as IDataObject,
		...costViews(result),
		...(result.drill ? { drill: result.drill } : {}),
		...(result.degraded ? { degraded: result.degraded } : {}),
	};
}

/** The cost, or null with the reason when a connected model's tokens have no price. */
function costViews(result: TaskResult): IDataObject {
	if (!result.unpricedModels?.length) return { costUsd: result.costUsd };
	return {
		costUsd: null,
		costNote: `no price known for ${result.unpricedModels.join(', ')}: set Input and Output Price in the tier's Tier Options`,
	};
}
