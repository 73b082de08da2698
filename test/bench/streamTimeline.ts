/**
 * npm run bench:timeline: what a reader of a streamed answer sees during an outage, recorded.
 * Three tiers on the real SDKs against the emulator at real models' pace: Anthropic answers
 * 529 on every call, OpenAI starts answering and its stream is cut a third of the way in,
 * Gemini continues the answer. Prints each event with its time since the request: the calls
 * as the emulator saw them, and every piece of text as the reader got it.
 */
import { FailoverChain } from '../../lib/engine/failoverChain';
import type { TierConfig } from '../../lib/engine/types';
import { ProviderEmulator } from '../../lib/emulator/server';
import type { WireProvider } from '../../lib/emulator/wire';
import { KEYS, MODELS } from '../support/emulator';

const REPLY =
	'Your refund of 42 euros was approved this morning. It reaches your card within three ' +
	'working days; the confirmation email is on its way, with the order number for reference.';

async function main(): Promise<void> {
	const emulator = new ProviderEmulator({
		scenario: {
			reply: REPLY,
			seed: 7,
			stream: { firstTokenMs: [400, 900], tokensPerSecond: [40, 80], chunkTokens: 2 },
			rules: [
				{ provider: 'anthropic', fault: 'overloaded', retryAfterS: 0 },
				{ provider: 'openai', fault: 'stream_cut', afterShare: 0.33 },
			],
		},
	});
	await emulator.start();
	const tier = (provider: WireProvider): TierConfig => ({
		provider,
		model: MODELS[provider],
		apiKey: KEYS[provider],
		baseUrl: emulator.urls[provider],
		attempts: provider === 'anthropic' ? 2 : 1,
	});
	const started = performance.now();
	const at = () => `${String(Math.round(performance.now() - started)).padStart(6)} ms`;
	const lines: string[] = [];
	const chain = new FailoverChain(
		{ tiers: [tier('anthropic'), tier('openai'), tier('gemini')] },
		{
			events: {
				onAttempt: (a) =>
					lines.push(
						`${at()}  tier ${a.tier} ${a.provider} try ${a.attempt}: ${a.status}` +
							(a.errorClass ? ` (${a.errorClass}${a.httpStatus ? ` ${a.httpStatus}` : ''})` : '') +
							(a.sentChars ? `, ${a.sentChars} characters streamed` : ''),
					),
			},
		},
	);
	const result = await chain.run(
		{ prompt: 'Where is my refund?' },
		{ onText: (delta) => lines.push(`${at()}  reader gets ${JSON.stringify(delta)}`) },
	);
	await emulator.stop();
	process.stdout.write(`${lines.join('\n')}\n`);
	process.stdout.write(
		`${at()}  answered by tier ${result.tier}, continued from tier ${result.continuedFrom?.tier} ` +
			`after ${result.continuedFrom?.chars} characters; the reader's text is the whole answer: ` +
			`${result.text === REPLY}\n`,
	);
}

main().catch((error) => {
	process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
	process.exitCode = 1;
});
