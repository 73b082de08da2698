/**
 * Reads a reviewer's POST: one decision per item, the reviewer's name, email and comment.
 * Anything wrong comes back as problems to show on the page; the execution keeps waiting.
 */
import type { FormValues, ReviewItem, ReviewSettings } from './page';
import { sameSecret } from './reviewToken';

/** The largest review submission accepted; a bigger one is refused before it is read. */
export const MAX_BODY_BYTES = 64 * 1024;
const MAX_ANSWER_CHARS = 20_000;
const MAX_TEXT_CHARS = 2_000;

export interface ItemDecision {
	index: number;
	decision: 'approved' | 'rejected';
	answer: string;
	edited: boolean;
}

export type ParsedReview =
	| { ok: true; name: string; email: string; comment: string; decisions: ItemDecision[] }
	| { ok: false; status: number; problems: string[]; values: FormValues };

function field(body: Record<string, unknown>, name: string): string | undefined {
	const value = body[name];
	if (Array.isArray(value)) return value.length ? String(value[0]) : undefined;
	return value === undefined || value === null ? undefined : String(value);
}

/** A submission as read: every field present, perhaps empty. */
type Submitted = Required<FormValues>;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

export function parseReview(
	body: Record<string, unknown>,
	items: ReviewItem[],
	settings: ReviewSettings,
): ParsedReview {
	const name = (field(body, 'name') ?? '').trim();
	const email = (field(body, 'email') ?? '').trim();
	const comment = (field(body, 'comment') ?? '').trim();
	const decisions = items.map((_, i) => field(body, `decision_${i}`));
	const answers = items.map((_, i) => field(body, `answer_${i}`));
	const values: Submitted = { name, email, comment, decisions, answers };
	const label = (i: number) => (items.length === 1 ? '' : ` for item ${i + 1}`);

	const reviewer = reviewerProblems(values, settings);
	const problems = [...decisionProblems(values, label), ...reviewer.problems];
	problems.push(...lengthProblems(values, label));
	let status = reviewer.forbidden ? 403 : 400;
	if (settings.password && !sameSecret(field(body, 'password') ?? '', settings.password)) {
		problems.push('The review password is wrong.');
		status = 403;
	}
	if (problems.length) return { ok: false, status, problems, values };

	return {
		ok: true,
		name,
		email,
		comment,
		decisions: items.map((item, index) => {
			const answer =
				settings.allowEdit && answers[index] !== undefined
					? answers[index].replace(/\r\n/g, '\n')
					: item.draftAnswer;
			return {
				index,
				decision: decisions[index] === 'approve' ? 'approved' : 'rejected',
				answer,
				edited: answer !== item.draftAnswer,
			};
		}),
	};
}

function decisionProblems(values: Submitted, label: (i: number) => string): string[] {
	const problems: string[] = [];
	values.decisions.forEach((decision, i) => {
		if (decision === undefined || decision === '')
			problems.push(`Choose Approve or Reject${label(i)}.`);
		else if (decision !== 'approve' && decision !== 'reject') {
			problems.push(
				`Unknown decision "${decision.slice(0, 40)}"${label(i)}: use approve or reject.`,
			);
		}
	});
	return problems;
}

/** Who may decide, and what they must say; `forbidden` when the email is not on the list. */
function reviewerProblems(
	{ name, email, comment, decisions }: Submitted,
	settings: ReviewSettings,
): { problems: string[]; forbidden: boolean } {
	const problems: string[] = [];
	let forbidden = false;
	const required = new Set(settings.requiredFields);
	if (required.has('name') && !name) problems.push('Enter your name.');
	if ((required.has('email') || settings.allowedEmails.length > 0) && !email)
		problems.push('Enter your email.');
	if (email && !EMAIL.test(email)) problems.push('The email address does not look right.');
	if (
		email &&
		settings.allowedEmails.length > 0 &&
		!settings.allowedEmails.includes(email.toLowerCase())
	) {
		problems.push('This email is not on the list of reviewers for this workflow.');
		forbidden = true;
	}
	const rejecting = decisions.some((d) => d === 'reject');
	if (!comment && (required.has('comment') || (required.has('commentOnReject') && rejecting))) {
		problems.push(
			required.has('comment') ? 'Enter a comment.' : 'Enter a comment saying why you reject.',
		);
	}
	return { problems, forbidden };
}

function lengthProblems(
	{ name, email, comment, answers }: Submitted,
	label: (i: number) => string,
): string[] {
	const problems: string[] = [];
	if (name.length > MAX_TEXT_CHARS || email.length > MAX_TEXT_CHARS)
		problems.push('Name and email must be shorter.');
	if (comment.length > MAX_ANSWER_CHARS)
		problems.push(`The comment is longer than ${MAX_ANSWER_CHARS} characters.`);
	answers.forEach((answer, i) => {
		if (answer !== undefined && answer.length > MAX_ANSWER_CHARS)
			problems.push(`The answer${label(i)} is longer than ${MAX_ANSWER_CHARS} characters.`);
	});
	return problems;
}
