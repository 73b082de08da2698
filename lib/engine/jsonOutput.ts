import { Script, createContext } from 'node:vm';

import Ajv from 'ajv';
import addFormats from 'ajv-formats';

import { ConfigError } from './configError';

export type JsonParse = (
	text: string,
) => { ok: true; value: unknown } | { ok: false; reason: string };

/**
 * The longest one answer's schema check may take. Model output is untrusted, and a `pattern`
 * that backtracks catastrophically (`^(a+)+$`) would otherwise hold n8n's main thread for
 * seconds to hours, out of reach of the task deadline. Ordinary checks take microseconds.
 */
export const SCHEMA_CHECK_LIMIT_MS = 100;

/** Models often wrap JSON in a Markdown fence; the fence is not part of the answer. */
function stripFence(text: string): string {
	const fenced = /^\s*```(?:json)?\s*\n?([\s\S]*?)\n?```\s*$/i.exec(text);
	return (fenced ? fenced[1] : text).trim();
}

type Validate = ((value: unknown) => boolean) & { errors?: unknown };

/**
 * Runs the check under a time limit. A regular expression cannot be interrupted on the
 * thread it runs on, except by V8's own watchdog, which a vm timeout arms for the call.
 */
function timeBounded(validate: Validate): (value: unknown) => boolean | 'too_slow' {
	const sandbox = createContext({ validate, value: undefined as unknown });
	const check = new Script('validate(value)');
	return (value) => {
		sandbox.value = value;
		try {
			return Boolean(check.runInContext(sandbox, { timeout: SCHEMA_CHECK_LIMIT_MS }));
		} catch (error) {
			if ((error as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return 'too_slow';
			throw error;
		} finally {
			sandbox.value = undefined;
		}
	};
}

/**
 * Builds the JSON output check. The schema is compiled once, up front, so an invalid
 * schema is a configuration error before any call is made. Formats (`email`, `date-time`,
 * `uri`…) are checked; a format this node cannot check is refused rather than ignored.
 */
export function buildJsonParser(schema: object | undefined): JsonParse {
	let check: (value: unknown) => boolean | 'too_slow' = () => true;
	let validate: Validate | undefined;
	let ajv: Ajv | undefined;
	if (schema !== undefined) {
		if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
			throw new ConfigError('output.jsonSchema', 'must be a JSON Schema object');
		}
		const unknownFormats: string[] = [];
		ajv = new Ajv({
			allErrors: true,
			strict: false,
			// Ajv reports a format it does not know as a warning and then ignores it.
			logger: {
				log: () => undefined,
				warn: (...args: unknown[]) => {
					const message = args.map(String).join(' ');
					if (/unknown format/i.test(message)) unknownFormats.push(message);
				},
				error: () => undefined,
			},
		});
		addFormats(ajv);
		try {
			validate = ajv.compile(schema);
		} catch (error) {
			throw new ConfigError(
				'output.jsonSchema',
				`is not a valid JSON Schema: ${error instanceof Error ? error.message : String(error)}`,
			);
		}
		if (unknownFormats.length > 0) {
			throw new ConfigError(
				'output.jsonSchema',
				`uses a format this node cannot check: ${unknownFormats[0]}. Known formats: ${Object.keys(ajv.formats).sort().join(', ')}`,
			);
		}
		check = timeBounded(validate);
	}
	return (text) => {
		let value: unknown;
		try {
			value = JSON.parse(stripFence(text));
		} catch {
			return { ok: false, reason: 'the answer is not valid JSON' };
		}
		const passed = check(value);
		if (passed === 'too_slow') {
			return {
				ok: false,
				reason: `checking the answer against the JSON schema took longer than ${SCHEMA_CHECK_LIMIT_MS} ms (a "pattern" in the schema may backtrack catastrophically)`,
			};
		}
		if (!passed) {
			const detail =
				ajv && validate ? ajv.errorsText(validate.errors as never, { dataVar: 'answer' }) : '';
			return { ok: false, reason: `the answer does not match the JSON schema: ${detail}` };
		}
		return { ok: true, value };
	};
}
