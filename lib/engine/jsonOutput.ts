import Ajv from 'ajv';

import { ConfigError } from './configError';

export type JsonParse = (
	text: string,
) => { ok: true; value: unknown } | { ok: false; reason: string };

/** Models often wrap JSON in a Markdown fence; the fence is not part of the answer. */
function stripFence(text: string): string {
	const fenced = /^\s*```(?:json)?\s*\n?([\s\S]*?)\n?```\s*$/i.exec(text);
	return (fenced ? fenced[1] : text).trim();
}

/**
 * Builds the JSON output check. The schema is compiled once, up front, so an invalid
 * schema is a configuration error before any call is made.
 */
export function buildJsonParser(schema: object | undefined): JsonParse {
	let validate: ((value: unknown) => boolean) & { errors?: unknown } = () => true;
	let ajv: Ajv | undefined;
	if (schema !== undefined) {
		if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
			throw new ConfigError('output.jsonSchema', 'must be a JSON Schema object');
		}
		ajv = new Ajv({ allErrors: true, strict: false });
		try {
			validate = ajv.compile(schema);
		} catch (error) {
			throw new ConfigError(
				'output.jsonSchema',
				`is not a valid JSON Schema: ${error instanceof Error ? error.message : String(error)}`,
			);
		}
	}
	return (text) => {
		let value: unknown;
		try {
			value = JSON.parse(stripFence(text));
		} catch {
			return { ok: false, reason: 'the answer is not valid JSON' };
		}
		if (!validate(value)) {
			const detail = ajv ? ajv.errorsText(validate.errors as never, { dataVar: 'answer' }) : '';
			return { ok: false, reason: `the answer does not match the JSON schema: ${detail}` };
		}
		return { ok: true, value };
	};
}
