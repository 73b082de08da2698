/**
 * The demo's run of workflows/any-model-agent.json: a support agent whose Resilient Chat Model
 * calls n8n's own chat model nodes on its Model inputs (OpenAI, then Groq, then Ollama). One
 * customer message while all are up, one while OpenAI's model is overloaded, one while OpenAI's
 * wire is down (Groq speaks it too, so Groq goes down with it): who answered each model call.
 */
import type { Rule, Scenario, Turn } from '../lib/emulator/scenario';
import type { Stack } from '../test/harness/stack';
import { chatModelCalls } from './chatModelCalls';
import type { CallSummary } from './chatModelCalls';

export const ANY_MODEL_FILE = 'any-model-agent.json';

/** The agent's side of its conversation: look the order up, then answer. */
const TURNS: Turn[] = [
	{ toolCalls: [{ name: 'Order_Lookup', arguments: { orderId: '1001' } }] },
	{ reply: 'Your blender (order 1001) was delivered four days ago.' },
];

const STEPS: Array<{ name: string; rules: Rule[] }> = [
	{ name: 'all providers up', rules: [] },
	{
		name: 'OpenAI down (gpt-4o-mini 503)',
		rules: [{ provider: 'openai', model: 'gpt-4o-mini', fault: 'overloaded' }],
	},
	{ name: 'OpenAI and Groq down (503)', rules: [{ provider: 'openai', fault: 'overloaded' }] },
];

/** One model call as the demo prints it: the tier and node that answered, and the tries before. */
function describeCall(summary: CallSummary | undefined, failed: boolean): string {
	if (failed || !summary) return 'failed';
	const answered = summary.attempts.find((a) => a.status === 'ok')?.model ?? '?';
	const before = summary.attempts.filter((a) => a.status === 'failed').length;
	return `tier ${summary.tier ?? '?'} ${answered}${before ? ` after ${before} failed tries` : ''}`;
}

async function oneMessage(stack: Stack, workflowId: string, say: (line: string) => void) {
	const response = await stack.n8n.webhook('any-model-agent', {
		message: 'Where is my blender (order 1001)?',
	});
	const execution = await stack.n8n.latestExecution(workflowId);
	const runData = execution.data?.resultData.runData ?? {};
	const calls = chatModelCalls(execution).map((call) => describeCall(call.summary, call.failed));
	const body = response.body as { answer?: string; status?: string; reason?: string };
	say(`    model calls: ${calls.join(', ')}`);
	say(`    tools ran: Order Lookup ${runData['Order Lookup']?.length ?? 0}`);
	say(
		`    ${body.answer ? `answer: ${body.answer}` : `${body.status ?? response.status}: ${body.reason ?? ''}`}`,
	);
}

/** Runs the agent through the steps, each on the demo's pace. */
export async function anyModelAgent(
	stack: Stack,
	workflowId: string,
	pace: Scenario,
	say: (line: string) => void,
): Promise<void> {
	say(
		`\nany chat model as a tier (${ANY_MODEL_FILE}): n8n's OpenAI, Groq and Ollama Chat Model nodes on Resilient Chat Model's Model inputs 1-3`,
	);
	if (stack.realProviders.includes('openai'))
		say('  OpenAI Chat Model: real API (key from the environment); only emulated models go down');
	for (const step of STEPS) {
		stack.setScenario({ ...pace, turns: TURNS, rules: step.rules });
		say(`  ${step.name}:`);
		await oneMessage(stack, workflowId, say);
	}
}
