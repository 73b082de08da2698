import type { Price, ProviderName, TokenUsage } from './types';

/**
 * List prices in USD per million tokens. Prices change: every result names the table
 * version that priced it, and each tier can override its price.
 */
export const PRICE_TABLE = {
	version: '2026-07',
	models: {
		'claude-haiku-4-5': { inputPerMTok: 1.0, outputPerMTok: 5.0 },
		'claude-sonnet-4-5': { inputPerMTok: 3.0, outputPerMTok: 15.0 },
		'gpt-4o-mini': { inputPerMTok: 0.15, outputPerMTok: 0.6 },
		'gpt-4.1-mini': { inputPerMTok: 0.4, outputPerMTok: 1.6 },
		'gemini-2.5-flash-lite': { inputPerMTok: 0.1, outputPerMTok: 0.4 },
		'gemini-2.5-flash': { inputPerMTok: 0.3, outputPerMTok: 2.5 },
	} as Record<string, Price>,
};

const MODELS_LONGEST_FIRST = Object.keys(PRICE_TABLE.models).sort((a, b) => b.length - a.length);

/**
 * The price of a model: the tier's override, else the longest table entry the model name
 * starts with (so dated snapshots such as `claude-haiku-4-5-20251001` match). Local Ollama
 * models cost nothing unless priced; an unknown model is `undefined` (cost reported as 0).
 */
export function priceFor(
	provider: ProviderName,
	model: string,
	override?: Price,
): Price | undefined {
	if (override) return override;
	const name = model.replace(/^models\//, '');
	const key = MODELS_LONGEST_FIRST.find((m) => name === m || name.startsWith(`${m}-`));
	if (key) return PRICE_TABLE.models[key];
	if (provider === 'ollama') return { inputPerMTok: 0, outputPerMTok: 0 };
	return undefined;
}

export function costUsd(usage: TokenUsage | undefined, price: Price | undefined): number {
	if (!usage || !price) return 0;
	const cost =
		(usage.inputTokens * price.inputPerMTok + usage.outputTokens * price.outputPerMTok) / 1e6;
	// Round to a tenth of a micro-dollar so sums stay readable.
	return Math.round(cost * 1e10) / 1e10;
}

/** An amount for people: whole cents as `$0.05`, smaller amounts to the micro-dollar (`$0.0123`). */
export function usd(amount: number): string {
	const cents = Math.round(amount * 100);
	if (Math.abs(amount * 100 - cents) < 1e-6) return `$${(cents / 100).toFixed(2)}`;
	return `$${Number(amount.toFixed(6))}`;
}
