import { parseBaseUrl } from '../providers/baseUrl';
import type { Connection, ProviderDescriptor } from '../providers/types';
import { ConfigError } from './configError';

/** What a credential gives a tier: its key, and the host that key belongs to. */
export interface CredentialEndpoint {
	apiKey?: unknown;
	baseUrl?: unknown;
}

function text(value: unknown): string {
	return typeof value === 'string' || typeof value === 'number' ? String(value).trim() : '';
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
): Connection {
	const apiKey = text(credential?.apiKey) || undefined;
	const home = text(credential?.baseUrl) || provider.defaultBaseUrl;
	const own = (tierBaseUrl ?? '').trim();
	if (!own) return { apiKey, baseUrl: home };
	const ownUrl = parseBaseUrl(own);
	if (typeof ownUrl === 'string') throw new ConfigError(field, ownUrl);
	if (!apiKey) return { baseUrl: own };
	const homeUrl = home ? parseBaseUrl(home) : undefined;
	if (homeUrl instanceof URL && homeUrl.origin === ownUrl.origin) return { apiKey, baseUrl: own };
	if (keylessElsewhere) return { baseUrl: own };
	throw new ConfigError(
		field,
		`${ownUrl.origin} is not on the host of the "${credentialName}" credential${homeUrl instanceof URL ? ` (${homeUrl.origin})` : ''}, and that credential's key goes only there`,
	);
}
