/** Base URLs as this package accepts them, from a credential or a tier. */

/**
 * A Base URL, or why it is not one: http(s) only, with no user name or password (they would
 * end up in error messages) and no query or fragment (a `#` or `?` would cut off the path the
 * package appends, and send the request somewhere else on the host).
 */
export function parseBaseUrl(text: string): URL | string {
	let url: URL;
	try {
		url = new URL(text.trim());
	} catch {
		return 'is not a URL starting with http:// or https://';
	}
	if (url.protocol !== 'http:' && url.protocol !== 'https:')
		return 'is not a URL starting with http:// or https://';
	if (url.username || url.password)
		return 'must not contain a user name or password; put the key in the credential instead';
	if (/[?#]/.test(text)) return 'must not contain a ? or #: the API paths are appended to it';
	return url;
}

/** Whether two URLs are on the same origin (scheme, host and port). */
export function sameOrigin(a: URL, b: URL): boolean {
	return a.origin === b.origin;
}
