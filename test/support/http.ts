/** Posts a form the way a browser submits the review page. */
export function postForm(link: string, fields: Record<string, string>): Promise<Response> {
	return fetch(link, {
		method: 'POST',
		headers: { 'content-type': 'application/x-www-form-urlencoded' },
		body: new URLSearchParams(fields).toString(),
		signal: AbortSignal.timeout(30_000),
	});
}
