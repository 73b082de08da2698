import { PROVIDER_NAMES, isProviderName, providerOf } from '../providers/registry';
import { backoffOf } from './backoff';
import { redact } from './errorText';
import { ConfigError, nonNegative, positive } from './configError';
import { DRILL_MODES } from './drill';
import type { ChainConfig, TierConfig } from './types';

/** Text that was meant as a URL, fit to quote: whatever precedes an `@` in it may be a password. */
function withoutUserInfo(text: string): string {
	return text.replace(/^([a-z][a-z0-9+.-]*:?\/*)?[^/?#]*@/i, '$1[redacted]@');
}

/** Checks a chain before any call is made; throws ConfigError naming the field. */
export function validateChain(config: ChainConfig): void {
	if (!Array.isArray(config.tiers) || config.tiers.length === 0) {
		throw new ConfigError('tiers', 'add at least one model tier');
	}
	config.tiers.forEach((tier, i) => validateTier(tier, `tiers[${i}]`));
	positive(config.deadlineMs, 'deadlineMs');
	positive(config.maxOutputTokens, 'maxOutputTokens', true);
	if (
		config.temperature !== undefined &&
		(typeof config.temperature !== 'number' || config.temperature < 0 || config.temperature > 2)
	) {
		throw new ConfigError(
			'temperature',
			`must be between 0 and 2, got ${JSON.stringify(config.temperature)}`,
		);
	}
	if (
		config.criticality !== undefined &&
		config.criticality !== 'standard' &&
		config.criticality !== 'high_stakes'
	) {
		throw new ConfigError(
			'criticality',
			`must be "standard" or "high_stakes", got ${JSON.stringify(config.criticality)}`,
		);
	}
	if (config.drill !== undefined && !(DRILL_MODES as readonly string[]).includes(config.drill)) {
		throw new ConfigError(
			'drill',
			`must be one of ${DRILL_MODES.join(', ')}, got ${JSON.stringify(config.drill)}`,
		);
	}
	backoffOf(config.backoff);
}

function validateTier(tier: TierConfig, at: string): void {
	if (!tier || typeof tier !== 'object') throw new ConfigError(at, 'must be an object');
	if (!isProviderName(tier.provider)) {
		throw new ConfigError(
			`${at}.provider`,
			`unknown provider ${JSON.stringify(tier.provider)}; use one of ${PROVIDER_NAMES.join(', ')}`,
		);
	}
	if (typeof tier.model !== 'string' || tier.model.trim() === '') {
		throw new ConfigError(`${at}.model`, 'name the model');
	}
	if (
		providerOf(tier.provider).needsKey &&
		(typeof tier.apiKey !== 'string' || tier.apiKey === '')
	) {
		throw new ConfigError(`${at}.apiKey`, `${tier.provider} needs an API key`);
	}
	if (tier.poolKeys !== undefined) validatePoolKeys(tier, at);
	if (tier.baseUrl !== undefined && tier.baseUrl !== '') validateBaseUrl(tier.baseUrl, at);
	positive(tier.attempts, `${at}.attempts`, true);
	positive(tier.timeoutMs, `${at}.timeoutMs`);
	positive(tier.firstTokenTimeoutMs, `${at}.firstTokenTimeoutMs`);
	positive(tier.stallTimeoutMs, `${at}.stallTimeoutMs`);
	positive(tier.contextWindow, `${at}.contextWindow`, true);
	if (tier.price !== undefined) {
		nonNegative(tier.price.inputPerMTok, `${at}.price.inputPerMTok`);
		nonNegative(tier.price.outputPerMTok, `${at}.price.outputPerMTok`);
	}
}

/** A key pool: keys of the tier's own provider, beside its own key, none of them empty. */
function validatePoolKeys(tier: TierConfig, at: string): void {
	const keys: unknown = tier.poolKeys;
	if (!Array.isArray(keys)) throw new ConfigError(`${at}.poolKeys`, 'must be a list of API keys');
	keys.forEach((key: unknown, i) => {
		if (typeof key !== 'string' || key.trim() === '')
			throw new ConfigError(`${at}.poolKeys[${i}]`, 'must be a non-empty API key');
	});
	if (keys.length > 0 && (tier.provider === 'connected' || !tier.apiKey))
		throw new ConfigError(
			`${at}.poolKeys`,
			"a key pool needs the tier's own API key too, and a provider this node calls itself",
		);
}

function validateBaseUrl(baseUrl: string, at: string): void {
	let url: URL | undefined;
	try {
		url = new URL(baseUrl);
	} catch {
		// reported below
	}
	if (url?.protocol !== 'http:' && url?.protocol !== 'https:') {
		throw new ConfigError(
			`${at}.baseUrl`,
			`is not a URL starting with http:// or https://: ${JSON.stringify(withoutUserInfo(baseUrl))}`,
		);
	}
	// Node's fetch refuses such URLs, and the password would end up in error messages.
	if (url.username || url.password) {
		throw new ConfigError(
			`${at}.baseUrl`,
			`must not contain a user name or password (${redact(url.href, [])}); put the key in the credential instead`,
		);
	}
	// The SDKs append their paths as text: after a # or ? they would land elsewhere on the host.
	if (/[?#]/.test(baseUrl)) {
		throw new ConfigError(
			`${at}.baseUrl`,
			'must not contain a ? or #: the API paths are appended to it',
		);
	}
}
