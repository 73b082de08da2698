/**
 * What an error message may say once it leaves the engine: no secret (keys, passwords in
 * URLs), no proxy's HTML markup, one short line. Every function here looks at each character
 * a bounded number of times: error bodies come from the network and can be hostile.
 */
/** Every string in an error message that must never leave the engine is cut out here. */
export function redact(text: string, secrets: readonly string[]): string {
	let out = text;
	for (const secret of secrets) {
		if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
	}
	// Keys the provider echoed back in part, or ones we were not told about; and the user
	// name and password of any URL quoted (`https://user:pass@host`).
	out = out
		.replace(/\b(sk-(?:ant-)?[A-Za-z0-9_*-]{6,})/g, '[redacted]')
		.replace(/\bAIza[0-9A-Za-z_-]{10,}/g, '[redacted]');
	return redactUserInfo(out);
}

const SCHEME_CHAR = /^[a-z0-9+.-]$/i;
const WORD_CHAR = /^\w$/;
const LETTER = /^[a-z]$/i;
const URL_END = /^[\s/?#]$/;

/**
 * Cuts the user name and password out of every `scheme://user:pass@` in a text. Scanned by
 * hand from each "://", every character looked at a bounded number of times: a regular
 * expression for this backtracked quadratically on long runs of letters and dots.
 */
function redactUserInfo(text: string): string {
	let out = '';
	let copied = 0;
	let from = 0;
	for (;;) {
		const separator = text.indexOf('://', from);
		if (separator < 0) break;
		const hostStart = separator + 3;
		// The user info runs to the last "@" before the path, query, fragment or a space.
		let end = hostStart;
		let at = -1;
		while (end < text.length && !URL_END.test(text[end])) {
			if (text[end] === '@') at = end;
			end++;
		}
		// The next "://" may begin with the ":" that ended this one's user info.
		from = end - 1;
		if (at < 0) continue;
		// The scheme: letters, digits, + . - back from "://", starting with a letter at the
		// start of a word.
		let runStart = separator;
		while (runStart > copied && SCHEME_CHAR.test(text[runStart - 1])) runStart--;
		let schemeStart = runStart;
		while (
			schemeStart < separator &&
			!(
				LETTER.test(text[schemeStart]) &&
				(schemeStart === 0 || !WORD_CHAR.test(text[schemeStart - 1]))
			)
		)
			schemeStart++;
		if (schemeStart === separator) continue;
		out += `${text.slice(copied, hostStart)}[redacted]@`;
		copied = at + 1;
		from = copied;
	}
	return out + text.slice(copied);
}

/**
 * An HTML page where the provider's JSON belongs came from something in between (a proxy,
 * a gateway, a load balancer): said so, with the page's title, not its markup.
 */
export function describeBody(text: string, status: number): string {
	if (!/^\s*<(!doctype\s+html|html|head|body)\b/i.test(text)) return text;
	const lower = text.toLowerCase();
	const words = (elementText(text, lower, 'title') ?? elementText(text, lower, 'h1') ?? '').trim();
	return `HTTP ${status} with an HTML page, not the provider's API (a proxy or gateway answered)${words ? `: ${words}` : ''}`;
}

/**
 * The text of the first `<tag …>text</tag>` in a page, found with a few forward searches: a
 * regular expression for this retried from every "<tag" and took minutes on a large page.
 */
function elementText(text: string, lower: string, tag: string): string | undefined {
	const open = lower.indexOf(`<${tag}`);
	if (open < 0) return undefined;
	const start = lower.indexOf('>', open) + 1;
	if (start === 0) return undefined;
	const end = lower.indexOf('<', start);
	return end >= 0 && lower.startsWith(`</${tag}>`, end) ? text.slice(start, end) : undefined;
}

export function shortMessage(text: string): string {
	const line = text.replace(/\s+/g, ' ').trim();
	return line.length > 300 ? `${line.slice(0, 297)}...` : line;
}
