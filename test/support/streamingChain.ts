/**
 * A chain of fake streaming tiers (fakeStreams.ts) on a virtual clock, with a reader that
 * logs what it gets into the same log as the fakes, for the engine's streaming tests.
 */
import { realClock } from '../../lib/clock/clock';
import type { Clock } from '../../lib/clock/clock';
import type { CircuitBreaker } from '../../lib/engine/breaker/circuitBreaker';
import { FailoverChain } from '../../lib/engine/failoverChain';
import type { ChainConfig, ProviderName, TierConfig } from '../../lib/engine/types';
import { FakeStream } from './fakeStreams';
import type { Play } from './fakeStreams';
import { VirtualClock } from './virtualClock';

export interface TierSpec extends Partial<TierConfig> {
	name: string;
	plays: Play[];
}

/**
 * A chain of fake streaming tiers, and a reader that logs what it gets. On a virtual clock
 * unless `realTime`: then the fakes pace themselves with real timers, as real providers do.
 */
export function streamingChain(
	specs: TierSpec[],
	options: Partial<ChainConfig> = {},
	extras: { breaker?: (clock: Clock) => CircuitBreaker; realTime?: boolean } = {},
) {
	const virtual = new VirtualClock();
	const clock: Clock = extras.realTime ? realClock : virtual;
	const log: string[] = [];
	const fakes = specs.map((s) => new FakeStream(s.name, s.plays, clock, log));
	const tiers = specs.map((spec) => {
		const overrides: Partial<TierSpec> = { ...spec };
		delete overrides.name;
		delete overrides.plays;
		return {
			provider: 'anthropic' as ProviderName,
			model: spec.name,
			apiKey: 'sk-test-key',
			attempts: 1,
			timeoutMs: 60_000,
			firstTokenTimeoutMs: 2_000,
			stallTimeoutMs: 1_000,
			...overrides,
		};
	});
	const chain = new FailoverChain(
		{ tiers, deadlineMs: 600_000, backoff: { initialDelayMs: 10, maxDelayMs: 10 }, ...options },
		{
			clock,
			adapterFor: (_tier, index) => fakes[index],
			random: () => 0.5,
			...(extras.breaker ? { breaker: extras.breaker(clock) } : {}),
		},
	);
	const texts: string[] = [];
	const onText = (delta: string) => {
		texts.push(delta);
		log.push(`reader got ${delta}`);
	};
	const run = async () => {
		const running = chain.run({ prompt: 'Write.' }, { onText });
		// Every wait here is on the virtual clock: time may always jump to the next timer.
		const result = extras.realTime ? await running : await virtual.run(running, () => true);
		log.push('run resolved');
		return result;
	};
	return { clock: virtual, log, fakes, texts, run, chain };
}
