/**
 * The fields of the per-task log line both nodes write ("Resilient LLM task", "Resilient
 * Chat Model call"): what answered, what failed on the way, tokens and cost. Plain data,
 * no prompt or answer text and no key.
 */
import type { IDataObject } from 'n8n-workflow';

import type { TaskResult } from '../../lib/engine/types';

export function taskLogFields(result: TaskResult): IDataObject {
	return {
		outcome: result.outcome,
		reason: result.reason,
		tier: result.tier,
		provider: result.provider,
		model: result.model,
		latencyMs: result.latencyMs,
		firstTokenMs: result.firstTokenMs,
		continuedFrom: result.continuedFrom,
		tiers: result.tiers.map((t) => ({
			tier: t.tier,
			model: t.model,
			latencyMs: t.latencyMs,
			costUsd: t.costUsd,
		})),
		failures: result.attempts
			.filter((a) => a.status === 'failed')
			.map((a) => ({ tier: a.tier, class: a.errorClass, status: a.httpStatus })),
		tokens: result.usage as unknown as IDataObject,
		costUsd: result.costUsd,
		drill: result.drill,
	};
}
