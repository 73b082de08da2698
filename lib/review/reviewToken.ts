/**
 * The secret of one review. n8n signs an execution's resume link once, so every wait of the
 * execution (agent then manager, each round of a loop) answers the same signed link. Each
 * review link therefore also carries a random token of its own, made by the Human Review
 * Link node just before the message that sends it; the Human Review accepts only the token
 * of the link it was given. Whoever holds another wait's link cannot decide this one.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** The query parameter of a review link that carries its token. */
export const REVIEW_TOKEN_PARAM = 'review';

/** 24 random bytes: 32 URL-safe characters. */
const TOKEN_BYTES = 24;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{32,128}$/;

export function newReviewToken(): string {
	return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** The execution's signed resume link with a review token added (n8n checks only `signature`). */
export function reviewLinkOf(resumeUrl: string, token: string): string {
	const url = new URL(resumeUrl);
	url.searchParams.set(REVIEW_TOKEN_PARAM, token);
	return url.toString();
}

/** The token a review link carries; undefined when it carries none or is no link at all. */
export function reviewTokenOf(link: string): string | undefined {
	let token: string | null;
	try {
		token = new URL(link).searchParams.get(REVIEW_TOKEN_PARAM);
	} catch {
		return undefined;
	}
	return token !== null && TOKEN_SHAPE.test(token) ? token : undefined;
}

/** Compares secrets without leaking their length or content through timing. */
export function sameSecret(given: string, expected: string): boolean {
	const a = createHash('sha256').update(given).digest();
	const b = createHash('sha256').update(expected).digest();
	return timingSafeEqual(a, b);
}
