import { parseBaseUrl } from '../providers/baseUrl';
import type { Connection, ProviderDescriptor } from '../providers/types';
import { ConfigError } from './configError';

/** What a credential gives a tier: its key (and any more for a key pool), and the host they belong to. */
export interface CredentialEndpoint {
	apiKey?: unknown;
	/** Additional API Keys: separated by commas, spaces or new lines. */
	additionalApiKeys?: unknown;
	baseUrl?: unknown;
}

/** Where a tier's calls go, with its key and the other keys of its pool, if any. */
export interface TierEndpoint extends Connection {
	poolKeys?: string[];
}

function text(value: unknown): string {
	return typeof value === 'string' || typeof value === 'number' ? String(value).trim() : '';
}

/**
 * A credential's keys, its API Key first, then its Additional API Keys in order: each once,
 * blanks left out. n8n's editor shows a password field on one line, where a pasted line break
 * is lost, so commas, semicolons and spaces part keys too (no provider's key contains one).
 * Without an API Key, the first additional key stands in for it.
 */
function keysOf(credential: CredentialEndpoint | null | undefined): string[] {
	const more = text(credential?.additionalApiKeys).split(/[\s,;]+/);
	const keys = [text(credential?.apiKey), ...more.map((line) => line.trim())];
	return [...new Set(keys.filter((key) => key.length > 0))];
}

/**
 * Where one tier's calls go, and with which key. A key goes only to the host its credential
 * names: a tier's own Base URL may choose another path on that host; pointing elsewhere is
 * refused, unless the tier may go there without a key (`keylessElsewhere`). Without a key to
 * protect, the tier's Base URL is taken as it is.
 */
export function tierEndpoint(
	field: string,
	provider: Pick<ProviderDescriptor, 'defaultBaseUrl'>,
	credentialName: string,
	credential: CredentialEndpoint | null | undefined,
	tierBaseUrl: string | undefined,
	keylessElsewhere = false,
): TierEndpoint {
	const [apiKey, ...poolKeys] = keysOf(credential);
	const keys = apiKey ? { apiKey, ...(poolKeys.length > 0 ? { poolKeys } : {}) } : {};
	const home = text(credential?.baseUrl) || provider.defaultBaseUrl;
	const own = (tierBaseUrl ?? '').trim();
	if (!own) return { ...keys, baseUrl: home };
	const ownUrl = parseBaseUrl(own);
	if (typeof ownUrl === 'string') throw new ConfigError(field, ownUrl);
	if (!apiKey) return { baseUrl: own };
	const homeUrl = home ? parseBaseUrl(home) : undefined;
	if (homeUrl instanceof URL && homeUrl.origin === ownUrl.origin) return { ...keys, baseUrl: own };
	if (keylessElsewhere) return { baseUrl: own };
	throw new ConfigError(
		field,
		`${ownUrl.origin} is not on the host of the "${credentialName}" credential${homeUrl instanceof URL ? ` (${homeUrl.origin})` : ''}, and that credential's key goes only there`,
	);
}
