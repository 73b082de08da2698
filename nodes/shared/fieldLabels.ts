/** The engine's field paths in the words of the node's UI, for errors that name a field. */

/** What to do about a tier's Base URL that would take a key to another host. */
export const BASE_URL_HELP =
	"A key goes only to the host its credential names: a tier's Base URL may only choose another path on that host. For another server, select a credential of its own (an OpenAI-Compatible credential for an OpenAI-compatible server) and leave the tier's Base URL empty.";

/** The engine's field paths, in the words of the node's UI. */
export function fieldLabel(field: string): string {
	const tier = /^tiers\[(\d+)\]\.?(.*)$/.exec(field);
	const names: Record<string, string> = {
		provider: 'Provider',
		model: 'Model',
		apiKey: 'credential API Key',
		poolKeys: 'credential Additional API Keys',
		baseUrl: 'Tier Options › Base URL',
		attempts: 'Attempts',
		timeoutMs: 'Timeout (Seconds)',
		contextWindow: 'Tier Options › Context Window (Tokens)',
		'price.inputPerMTok': 'Tier Options › Input Price',
		'price.outputPerMTok': 'Tier Options › Output Price',
	};
	if (tier)
		return `Model Chain › Tier ${Number(tier[1]) + 1}${tier[2] ? ` › ${names[tier[2]] ?? tier[2]}` : ''}`;
	const top: Record<string, string> = {
		tiers: 'Model Chain',
		prompt: 'Prompt',
		systemPrompt: 'System Prompt',
		deadlineMs: 'Options › Task Deadline (Seconds)',
		maxOutputTokens: 'Options › Max Output Tokens',
		temperature: 'Options › Temperature',
		criticality: 'Criticality',
		'output.jsonSchema': 'JSON Schema',
		drill: 'Options › Drill',
		'backoff.initialDelayMs': 'Options › Backoff Start (Ms)',
		'backoff.maxHintMs': 'Options › Max Retry Wait (Seconds)',
		'budget.limitUsd': 'Options › Budget (USD)',
		'budget.period': 'Options › Budget Period',
		'budget.timeZone': 'Options › Budget Time Zone',
	};
	return top[field] ?? field;
}
