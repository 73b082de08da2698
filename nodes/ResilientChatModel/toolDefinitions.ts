/**
 * The tools an AI root node binds, as the engine's tool definitions: a name, a description
 * and a JSON Schema for the arguments, whichever Zod copy the tool's schema came from.
 */
import type { FunctionTool, Tool } from '@n8n/ai-node-sdk';

import type { ToolDefinition } from '../../lib/engine/types';
import type { InvalidInput } from './chatMessages';

/**
 * A Zod schema from any copy of zod (3 or 4). The SDK converts only schemas made with its own
 * zod (an `instanceof` check): a tool built with another copy comes back as the Zod object.
 */
export function isZodSchema(value: unknown): value is Record<string, unknown> {
	if (!value || typeof value !== 'object') return false;
	// Not `~standard`: Zod 4's own JSON Schema output carries one too.
	const def = (value as { _def?: unknown })._def;
	return '_zod' in value || (typeof def === 'object' && def !== null);
}

/** Converts a Zod 3 schema to JSON Schema (zod-to-json-schema, as n8n's SDK uses it). */
export type ZodConverter = (schema: unknown) => Record<string, unknown>;

function zodAsJsonSchema(schema: Record<string, unknown>, zodToJsonSchema?: ZodConverter): unknown {
	// Zod 4 schemas convert themselves; Zod 3 ones need zod-to-json-schema.
	if (typeof schema.toJSONSchema === 'function') {
		return (schema.toJSONSchema as () => unknown)();
	}
	if (zodToJsonSchema && '_def' in schema && !('_zod' in schema)) return zodToJsonSchema(schema);
	return undefined;
}

function isJsonSchemaObject(value: unknown): value is Record<string, unknown> {
	if (!value || typeof value !== 'object' || Array.isArray(value) || isZodSchema(value)) {
		return false;
	}
	const prototype = Object.getPrototypeOf(value) as unknown;
	if (prototype !== Object.prototype && prototype !== null) return false;
	const type = (value as { type?: unknown }).type;
	return type === undefined || type === 'object';
}

/**
 * The SDK's tools as the engine's definitions; `toJsonSchema` turns a tool's schema into JSON
 * Schema, `zodToJsonSchema` converts a Zod 3 schema `toJsonSchema` left as it was. A schema
 * that is still not a JSON Schema object is refused: a provider would reject it, or call the
 * tool with no arguments.
 */
export function toToolDefinitions(
	tools: Tool[],
	toJsonSchema: (tool: FunctionTool) => Record<string, unknown>,
	invalid: InvalidInput,
	zodToJsonSchema?: ZodConverter,
): ToolDefinition[] {
	return tools.map((tool) => {
		if (tool.type !== 'function') {
			throw invalid(
				`the tool "${tool.name}" is a provider's built-in tool, which a chain across providers cannot pass on`,
			);
		}
		let schema: unknown;
		let problem = '';
		try {
			schema = toJsonSchema(tool);
			if (isZodSchema(schema)) schema = zodAsJsonSchema(schema, zodToJsonSchema);
		} catch (error) {
			problem = `: ${(error as Error).message}`;
		}
		if (!isJsonSchemaObject(schema)) {
			const what = isZodSchema(tool.inputSchema)
				? 'a Zod schema that could not be converted to JSON Schema'
				: 'not a JSON Schema object';
			throw invalid(`the input schema of tool "${tool.name}" is ${what}${problem}`);
		}
		const { $schema, ...parameters } = schema;
		void $schema;
		return {
			name: tool.name,
			...(tool.description ? { description: tool.description } : {}),
			parameters: Object.keys(parameters).length ? parameters : { type: 'object', properties: {} },
		};
	});
}
