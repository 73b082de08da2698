/**
 * What Resilient Chat Model's output panel says about each model call an agent made in one
 * execution: the demo prints who answered each from it.
 */
import type { Execution, ExecutionItem } from '../test/harness/n8n';

export interface CallSummary {
	tier?: number;
	attempts: Array<{ model: string; status: string }>;
}

/** Each call of the named Resilient Chat Model: its summary, or failed. */
export function chatModelCalls(
	execution: Execution,
	node = 'Resilient Chat Model',
): Array<{ summary?: CallSummary; failed: boolean }> {
	const runData = execution.data?.resultData.runData ?? {};
	return (runData[node] ?? []).map((run) => {
		const output = (run.data as unknown as Record<string, ExecutionItem[][]> | undefined)
			?.ai_languageModel;
		return {
			summary: output?.[0]?.[0]?.json.resilience as CallSummary | undefined,
			failed: Boolean(run.error),
		};
	});
}
