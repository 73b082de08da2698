/**
 * The review page a person opens from the resume link: the task, the prompt, the draft
 * answer, the attempts and why it needs a human; approve, edit and approve, or reject.
 * Everything shown is untrusted text and is escaped; a strict Content-Security-Policy backs
 * that up. Works on a phone and without JavaScript; with it, a second submission gets a
 * clear "already decided" message instead of n8n's 409.
 */

export interface ReviewAttempt {
	tier?: number;
	provider?: string;
	model?: string;
	status?: string;
	errorClass?: string;
	httpStatus?: number;
	latencyMs?: number;
}

export interface ReviewItem {
	title: string;
	details: string;
	prompt: string;
	draftAnswer: string;
	reason: string;
	attempts: ReviewAttempt[];
}

export type RequiredField = 'name' | 'email' | 'comment' | 'commentOnReject';

export interface ReviewSettings {
	allowEdit: boolean;
	requiredFields: RequiredField[];
	/** A shared password asked on the page; empty for none. */
	password: string;
	/** When set, the reviewer must give one of these emails. */
	allowedEmails: string[];
	/** ISO time after which the review closes, if any. */
	closesAt?: string;
}

/** What the reviewer typed, echoed back when the form needs correcting. */
export interface FormValues {
	name?: string;
	email?: string;
	comment?: string;
	decisions?: Array<string | undefined>;
	answers?: Array<string | undefined>;
}

export function escapeHtml(value: unknown): string {
	return String(value ?? '')
		.replace(/&/g, '&amp;')
		.replace(/</g, '&lt;')
		.replace(/>/g, '&gt;')
		.replace(/"/g, '&quot;')
		.replace(/'/g, '&#39;');
}

/** Marks the node's own pages, so the page script tells them from a proxy's or n8n's answers. */
export const PAGE_HEADER = 'X-Human-Review-Page';

/** Headers for every page: no script but ours (by nonce), no framing, no referrer leak of the signed link. */
export function pageHeaders(nonce: string): Record<string, string> {
	return {
		[PAGE_HEADER]: '1',
		'Content-Type': 'text/html; charset=utf-8',
		'Content-Security-Policy': `default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-${nonce}'; form-action 'self'; connect-src 'self'; img-src data:; base-uri 'none'; frame-ancestors 'none'`,
		'Referrer-Policy': 'no-referrer',
		'X-Content-Type-Options': 'nosniff',
		'Cache-Control': 'no-store',
	};
}

const STYLE = `
:root { color-scheme: light dark; --accent: #ff6d5a; --bg: #f5f6fa; --card: #ffffff; --text: #2d2e2e; --muted: #6f7380; --line: #dbdfe7; --ok: #2f9e5b; --bad: #d9363e; }
@media (prefers-color-scheme: dark) { :root { --bg: #1b1c1f; --card: #26272b; --text: #e8e8ea; --muted: #a0a3ab; --line: #3a3b40; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 680px; margin: 0 auto; padding: 16px; }
header { display: flex; align-items: center; gap: 10px; margin: 8px 0 16px; color: var(--muted); font-size: 14px; }
header b { color: var(--text); }
.logo { min-width: 28px; height: 28px; padding: 0 6px; border-radius: 6px; background: var(--accent); color: #fff; display: grid; place-items: center; font-weight: 700; font-size: 13px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px; margin-bottom: 16px; }
h1 { font-size: 20px; margin: 0 0 8px; } h2 { font-size: 15px; margin: 16px 0 6px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
pre, .text { white-space: pre-wrap; word-break: break-word; background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 10px; margin: 0; font: 14px/1.45 ui-monospace, SFMono-Regular, Menlo, monospace; }
.reason { border-left: 4px solid var(--accent); padding: 8px 12px; background: var(--bg); border-radius: 4px; }
table { width: 100%; border-collapse: collapse; font-size: 13px; } th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); }
label { display: block; font-weight: 600; margin: 12px 0 4px; }
input[type=text], input[type=email], input[type=password], textarea { width: 100%; padding: 10px; border: 1px solid var(--line); border-radius: 6px; font: inherit; background: var(--card); color: var(--text); }
textarea { min-height: 120px; }
.choices { display: flex; gap: 12px; flex-wrap: wrap; } .choices label { font-weight: 400; margin: 0; }
.buttons { display: flex; gap: 12px; margin-top: 16px; flex-wrap: wrap; }
button { flex: 1 1 140px; min-height: 48px; border: 0; border-radius: 8px; font: 600 16px system-ui, sans-serif; cursor: pointer; color: #fff; }
button.approve { background: var(--ok); } button.reject { background: var(--bad); } button.submit { background: var(--accent); }
.problems { border: 1px solid var(--bad); color: var(--bad); border-radius: 8px; padding: 10px 14px; }
.muted { color: var(--muted); font-size: 14px; }
`;

function layout(title: string, body: string, nonce: string, script = ''): string {
	return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main><header><span class="logo" aria-hidden="true">n8n</span><span><b>Human Review</b> · Resilient LLM</span></header>
${body}
</main>${script ? `<script nonce="${escapeHtml(nonce)}">${script}</script>` : ''}</body></html>`;
}

function attemptsTable(attempts: ReviewAttempt[]): string {
	if (attempts.length === 0) return '';
	const rows = attempts
		.map(
			(a) =>
				`<tr><td>${escapeHtml(a.tier ?? '')}</td><td>${escapeHtml(`${a.provider ?? ''}/${a.model ?? ''}`)}</td><td>${escapeHtml(a.errorClass ?? a.status ?? '')}</td><td>${escapeHtml(a.httpStatus ?? '')}</td><td>${escapeHtml(a.latencyMs === undefined ? '' : `${Math.round(a.latencyMs)} ms`)}</td></tr>`,
		)
		.join('');
	return `<h2>Attempts</h2><table><thead><tr><th>Tier</th><th>Model</th><th>Result</th><th>HTTP</th><th>Time</th></tr></thead><tbody>${rows}</tbody></table>`;
}

/**
 * Posts the form with fetch, to the page's own address (the link it was opened with), so
 * that a decision already taken (n8n answers 409 once the execution has moved on) shows as
 * such, and any other answer that is not one of this node's pages (a proxy's 404, an n8n
 * error) shows as a decision not recorded. Without JavaScript the form posts as usual.
 */
const ENHANCE = `
const form = document.querySelector('form');
const problem = document.getElementById('send-problem');
function notSent(message) {
  problem.textContent = message + ' Your decision was not recorded and the review is still open: try again, or tell the workflow owner.';
  problem.hidden = false;
  for (const b of form.querySelectorAll('button')) b.disabled = false;
  problem.scrollIntoView();
}
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = new URLSearchParams(new FormData(form, event.submitter));
  for (const b of form.querySelectorAll('button')) b.disabled = true;
  problem.hidden = true;
  let response;
  try {
    response = await fetch(window.location.href, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  } catch (error) {
    notSent('Could not reach the review: check the connection.');
    return;
  }
  if (response.headers.get('${PAGE_HEADER}')) {
    const html = await response.text();
    document.open(); document.write(html); document.close();
    return;
  }
  if (response.status === 409) {
    document.querySelector('main').innerHTML = '<div class="card"><h1>Already decided</h1><p>This review was already decided, or it closed. Nothing was changed.</p></div>';
    return;
  }
  notSent('The server answered ' + response.status + (response.statusText ? ' ' + response.statusText : '') + (response.ok ? ' without the review.' : '.'));
});`;

export function renderReviewPage(
	items: ReviewItem[],
	settings: ReviewSettings,
	nonce: string,
	values: FormValues = {},
	problems: string[] = [],
): string {
	const single = items.length === 1;
	const sections = items
		.map((item, i) => {
			const decision = values.decisions?.[i];
			const answer = values.answers?.[i] ?? item.draftAnswer;
			const answerField = settings.allowEdit
				? `<label for="answer_${i}">Answer${item.draftAnswer ? ' (edit before approving if needed)' : ''}</label><textarea id="answer_${i}" name="answer_${i}">${escapeHtml(answer)}</textarea>`
				: item.draftAnswer
					? `<h2>Draft answer</h2><div class="text">${escapeHtml(item.draftAnswer)}</div>`
					: '';
			const choice = single
				? ''
				: `<label>Decision for this item</label><div class="choices"><label><input type="radio" name="decision_${i}" value="approve"${decision === 'approve' ? ' checked' : ''}> Approve</label><label><input type="radio" name="decision_${i}" value="reject"${decision === 'reject' ? ' checked' : ''}> Reject</label></div>`;
			return `<section class="card" data-item="${i}">
<h1>${escapeHtml(item.title || 'Review needed')}</h1>
${item.reason ? `<div class="reason">${escapeHtml(item.reason)}</div>` : ''}
${item.details ? `<h2>Task</h2><div class="text">${escapeHtml(item.details)}</div>` : ''}
${item.prompt ? `<h2>Prompt</h2><pre>${escapeHtml(item.prompt)}</pre>` : ''}
${settings.allowEdit && item.draftAnswer ? `<h2>Draft answer</h2><div class="text">${escapeHtml(item.draftAnswer)}</div>` : ''}
${attemptsTable(item.attempts)}
${answerField}
${choice}
</section>`;
		})
		.join('\n');
	const needs = (field: RequiredField) => settings.requiredFields.includes(field);
	const emailRequired = needs('email') || settings.allowedEmails.length > 0;
	const reviewer = `<section class="card">
<label for="name">Your name${needs('name') ? '' : ' (optional)'}</label><input type="text" id="name" name="name" autocomplete="name" value="${escapeHtml(values.name ?? '')}"${needs('name') ? ' required' : ''}>
<label for="email">Your email${emailRequired ? '' : ' (optional)'}</label><input type="email" id="email" name="email" autocomplete="email" value="${escapeHtml(values.email ?? '')}"${emailRequired ? ' required' : ''}>
<label for="comment">Comment${needs('comment') ? '' : needs('commentOnReject') ? ' (required when rejecting)' : ' (optional)'}</label><textarea id="comment" name="comment">${escapeHtml(values.comment ?? '')}</textarea>
${settings.password ? '<label for="password">Review password</label><input type="password" id="password" name="password" autocomplete="current-password" required>' : ''}
<div class="buttons">${
		single
			? '<button class="approve" type="submit" name="decision_0" value="approve">Approve</button><button class="reject" type="submit" name="decision_0" value="reject">Reject</button>'
			: '<button class="submit" type="submit">Submit decisions</button>'
	}</div>
${settings.closesAt ? `<p class="muted">This review closes at ${escapeHtml(settings.closesAt)}.</p>` : ''}
</section>`;
	const problemBox = problems.length
		? `<div class="card problems" role="alert"><b>Please fix:</b><ul>${problems.map((p) => `<li>${escapeHtml(p)}</li>`).join('')}</ul></div>`
		: '';
	return layout(
		items[0]?.title || 'Review needed',
		// No action: the form posts to the address the page was opened with, query string and
		// all, whatever path prefix a proxy in front of n8n adds or strips.
		`${problemBox}<div class="card problems" role="alert" id="send-problem" hidden></div><form method="post">${sections}${reviewer}</form>`,
		nonce,
		ENHANCE,
	);
}

export function renderDecidedPage(
	summary: { approved: number; rejected: number; reviewer: string },
	nonce: string,
): string {
	const what =
		summary.approved && summary.rejected
			? `${summary.approved} approved, ${summary.rejected} rejected`
			: summary.approved
				? 'Approved'
				: 'Rejected';
	return layout(
		'Decision recorded',
		`<div class="card"><h1>Decision recorded: ${escapeHtml(what)}</h1><p>Thank you${summary.reviewer ? `, ${escapeHtml(summary.reviewer)}` : ''}. The workflow goes on with your decision. You can close this page.</p></div>`,
		nonce,
	);
}

export function renderAlreadyDecidedPage(nonce: string): string {
	return layout(
		'Already decided',
		'<div class="card"><h1>Already decided</h1><p>This review was already decided, or it closed. Nothing was changed.</p></div>',
		nonce,
	);
}

export function renderProblemPage(
	title: string,
	message: string,
	nonce: string,
	/** Whether to add that the review is still open for another try. */
	stillOpen = true,
): string {
	return layout(
		title,
		`<div class="card problems" role="alert"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p>${stillOpen ? '<p class="muted">The review is still open: go back and try again.</p>' : ''}</div>`,
		nonce,
	);
}
