/**
 * The fetch every provider call goes through: a redirect is handed back as the answer, never
 * followed. Its request carries the key in a header (Anthropic's `x-api-key`, Gemini's
 * `x-goog-api-key`) that fetch would take along to whatever host the redirect names; a
 * model call has no business being redirected anyway.
 */
export function fetchWithoutRedirects(
	input: string | URL | Request,
	init?: RequestInit,
): Promise<Response> {
	return fetch(input, { ...init, redirect: 'manual' });
}
