/**
 * What a provider's broken transport becomes, for every provider through its real SDK over
 * HTTP: a connection cut mid-body, a 200 with a truncated JSON body, a body dripped too
 * slowly to finish, and a proxy's HTML 502 page. Each is retried like the transient failure
 * it is, is named for what it was, and never shows the user markup.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FailoverChain } from '../../lib/engine/failoverChain';
import type { ErrorClass } from '../../lib/engine/types';
import type { Fault } from '../../lib/emulator/scenario';
import { FAST_BACKOFF, HALF, WIRE_PROVIDERS, tier, useEmulator } from '../support/emulator';

const ctx = useEmulator();

const EXPECTED: Array<{ fault: Fault; errorClass: ErrorClass; message: RegExp }> = [
	{ fault: 'drop_mid_body', errorClass: 'connection', message: /^connection failed/ },
	{ fault: 'malformed', errorClass: 'server_error', message: /^malformed response body/ },
	{ fault: 'slow_drip', errorClass: 'timeout', message: /no answer within the attempt timeout/ },
	{ fault: 'proxy_html_502', errorClass: 'server_error', message: /^HTTP 502/ },
];

for (const { fault, errorClass, message } of EXPECTED) {
	describe(`${fault}`, () => {
		for (const provider of WIRE_PROVIDERS) {
			it(`${provider}: ${errorClass}, retried, then the next tier answers`, async () => {
				const { emulator } = ctx;
				const fallback = provider === 'anthropic' ? 'openai' : 'anthropic';
				emulator.loadScenario({ rules: [{ provider, fault, dripSeconds: 30 }] });
				emulator.resetCounts();
				const chain = new FailoverChain(
					{
						tiers: [
							// The drip would take 30 s; its attempts may take 300 ms. The other faults
							// get the time a busy machine may need to see them.
							tier(emulator, provider, {
								attempts: 2,
								timeoutMs: fault === 'slow_drip' ? 300 : 10_000,
							}),
							tier(emulator, fallback, { attempts: 1 }),
						],
						backoff: FAST_BACKOFF,
					},
					{ random: HALF },
				);
				const result = await chain.run({ prompt: 'Summarise ticket T-7.' });
				assert.equal(result.outcome, 'answered');
				assert.equal(result.tier, 2);
				const failed = result.attempts.filter((a) => a.tier === 1);
				assert.equal(failed.length, 2, 'two tries on the faulty tier');
				for (const attempt of failed) {
					assert.equal(attempt.errorClass, errorClass);
					assert.match(attempt.message ?? '', message);
					assert.doesNotMatch(attempt.message ?? '', /<html|<title|<h1/i);
				}
				assert.equal(emulator.count(provider), 2);
				assert.equal(emulator.answers(provider), 0, 'the faulty tier never answered in full');
				assert.equal(emulator.answers(fallback), 1);
			});
		}
	});
}

describe('an HTML page from a proxy', () => {
	it('is named as such, with its title, where the SDK passes the body on', async () => {
		const { emulator } = ctx;
		emulator.loadScenario({ rules: [{ fault: 'proxy_html_502' }] });
		for (const provider of ['gemini', 'ollama'] as const) {
			const chain = new FailoverChain({ tiers: [tier(emulator, provider, { attempts: 1 })] });
			const result = await chain.run({ prompt: 'hi' });
			assert.equal(result.outcome, 'needs_human');
			assert.equal(result.attempts[0].httpStatus, 502);
			assert.match(
				result.attempts[0].message ?? '',
				/HTML page, not the provider's API \(a proxy or gateway answered\): 502 Bad Gateway/,
			);
		}
	});
});
