import { Script, createContext } from 'node:vm';

import Ajv from 'ajv';
import addFormats from 'ajv-formats';

import { ConfigError } from './configError';

export type JsonParse = (
	text: string,
) => { ok: true; value: unknown } | { ok: false; reason: string };

/**
 * The longest reading one answer may take: the fence taken off, the JSON parsed and the
 * schema checked. Model output is untrusted, and a `pattern` that backtracks
 * catastrophically (`^(a+)+$`) would otherwise hold n8n's main thread for seconds to hours,
 * out of reach of the task deadline. Ordinary answers take microseconds.
 */
export const ANSWER_CHECK_LIMIT_MS = 100;

const FENCE = '```';

/**
 * Models often wrap JSON in a Markdown fence (```json … ```); the fence is not part of the
 * answer. Read with plain string steps, each linear in the answer's length: a regular
 * expression here backtracked quadratically on a fence followed by whitespace.
 */
export function stripFence(text: string): string {
	const trimmed = text.trim();
	if (trimmed.length < 2 * FENCE.length || !trimmed.startsWith(FENCE) || !trimmed.endsWith(FENCE))
		return trimmed;
	let inner = trimmed.slice(FENCE.length, -FENCE.length);
	if (inner.slice(0, 4).toLowerCase() === 'json') inner = inner.slice(4);
	return inner.trim();
}

type Validate = ((value: unknown) => boolean) & { errors?: unknown };

/**
 * Runs every step that reads the answer under the time limit. Code cannot be interrupted on
 * the thread it runs on, except by V8's own watchdog, which a vm timeout arms for the call;
 * `read` stays a function of this realm, so what it returns is an ordinary object here.
 */
function timeBounded(read: JsonParse, tooSlow: string): JsonParse {
	const sandbox = createContext({ read, text: '' });
	const reading = new Script('read(text)');
	return (text) => {
		sandbox.text = text;
		try {
			return reading.runInContext(sandbox, {
				timeout: ANSWER_CHECK_LIMIT_MS,
			}) as ReturnType<JsonParse>;
		} catch (error) {
			if ((error as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT')
				return { ok: false, reason: tooSlow };
			throw error;
		} finally {
			sandbox.text = '';
		}
	};
}

/**
 * Builds the JSON output check. The schema is compiled once, up front, so an invalid
 * schema is a configuration error before any call is made. Formats (`email`, `date-time`,
 * `uri`…) are checked; a format this node cannot check is refused rather than ignored.
 */
export function buildJsonParser(schema: object | undefined): JsonParse {
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
	}
	const schemaCheck = validate;
	const read: JsonParse = (text) => {
		let value: unknown;
		try {
			value = JSON.parse(stripFence(text));
		} catch {
			return { ok: false, reason: 'the answer is not valid JSON' };
		}
		if (schemaCheck && !schemaCheck(value)) {
			const detail = ajv ? ajv.errorsText(schemaCheck.errors as never, { dataVar: 'answer' }) : '';
			return { ok: false, reason: `the answer does not match the JSON schema: ${detail}` };
		}
		return { ok: true, value };
	};
	return timeBounded(
		read,
		schemaCheck
			? `reading the answer and checking it against the JSON schema took longer than ${ANSWER_CHECK_LIMIT_MS} ms (a "pattern" in the schema may backtrack catastrophically)`
			: `reading the answer as JSON took longer than ${ANSWER_CHECK_LIMIT_MS} ms`,
	);
}
