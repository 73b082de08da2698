/**
 * Reading Human Review's parameters: as text, as its webhook reads them (an expression is
 * evaluated for the item), and the review page's settings with the Reviewer Password.
 */
import type { IDataObject, IWebhookFunctions } from 'n8n-workflow';

import type { RequiredField, ReviewSettings } from '../../lib/review/page';

/** A parameter's value as the page shows it: text as is, anything else as JSON. */
export function text(value: unknown): string {
	if (value === undefined || value === null) return '';
	return typeof value === 'string' ? value : JSON.stringify(value, null, 2);
}

/** A parameter as this node's webhook reads it: an expression is evaluated for the item. */
export function parameterOf(
	ctx: IWebhookFunctions,
	name: string,
	itemIndex: number,
	fallback = '',
): string {
	const raw = ctx.getNode().parameters[name] ?? fallback;
	if (typeof raw === 'string' && raw.startsWith('='))
		return text(ctx.evaluateExpression(raw.slice(1), itemIndex));
	return text(raw);
}

/**
 * The Reviewer Password as set: undefined for none. An expression that gives nothing is
 * not "no password": it is a password that could not be read, and decides nothing.
 */
export function passwordSetting(raw: unknown, resolved: unknown): { set: boolean; value: string } {
	const set = typeof raw === 'string' ? raw.trim() !== '' && raw.trim() !== '=' : raw !== undefined;
	return { set, value: resolved === undefined || resolved === null ? '' : String(resolved) };
}

/** The review page's settings; an unreadable Reviewer Password is flagged, not taken as none. */
export function settingsOf(
	ctx: IWebhookFunctions,
): ReviewSettings & { passwordUnreadable: boolean } {
	const options = ctx.getNodeParameter('options', {}) as IDataObject;
	const rawOptions = (ctx.getNode().parameters.options ?? {}) as IDataObject;
	const password = passwordSetting(rawOptions.password, options.password);
	return {
		passwordUnreadable: password.set && password.value === '',
		allowEdit: (options.allowEdit as boolean | undefined) ?? true,
		requiredFields: ((options.requiredFields as RequiredField[] | undefined) ?? [
			'commentOnReject',
		]) as RequiredField[],
		password: password.value,
		allowedEmails: String(options.allowedEmails ?? '')
			.split(',')
			.map((e) => e.trim().toLowerCase())
			.filter(Boolean),
	};
}
