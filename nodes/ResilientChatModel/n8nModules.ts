/**
 * n8n's own AI node SDK, whatever sits beside this package. Installed by hand (`npm install`
 * in `~/.n8n/nodes`), npm may put another copy of the SDK next to the package, with its own
 * LangChain and zod: models it wraps do not match n8n's AI Agent, and it does not recognise
 * the Zod schemas of n8n's tools. So the SDK is looked up from n8n's side first: from n8n's
 * AI nodes package as seen from n8n's main module (the `n8n` command), then from that main
 * module, then from the folders on NODE_PATH; the plain `require` comes last (a test, or an
 * n8n laid out otherwise).
 */
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';

import type { ZodConverter } from './toolDefinitions';

export type AiNodeSdk = typeof import('@n8n/ai-node-sdk');

export interface N8nLocation {
	/** n8n's main module: `require.main`'s file when n8n runs. */
	mainFilename?: string;
	/** NODE_PATH as n8n set it. */
	nodePath?: string;
}

const SDK = '@n8n/ai-node-sdk';
/** This file's own require: the plain lookup, from where the package is installed. */
const ownRequire = createRequire(__filename);

function resolveFrom(from: string, request: string): string | undefined {
	try {
		return createRequire(from).resolve(request);
	} catch {
		return undefined;
	}
}

/**
 * Where n8n's copy of a module is, or undefined when n8n's side has none (then the plain
 * `require` decides).
 */
export function resolveN8nModule(request: string, location: N8nLocation): string | undefined {
	const candidates: string[] = [];
	if (location.mainFilename) {
		// The SDK the AI Agent's package sees comes first: under a strict layout (pnpm) only
		// that package sees it, and its models must fit that package's LangChain.
		const langchain = resolveFrom(location.mainFilename, '@n8n/n8n-nodes-langchain');
		if (langchain) candidates.push(langchain);
		candidates.push(location.mainFilename);
	}
	for (const folder of (location.nodePath ?? '').split(delimiter).filter(Boolean)) {
		candidates.push(join(folder, 'noop.js'));
	}
	for (const from of candidates) {
		const resolved = resolveFrom(from, request);
		if (resolved) return resolved;
	}
	return undefined;
}

export function currentN8nLocation(): N8nLocation {
	return { mainFilename: require.main?.filename, nodePath: process.env.NODE_PATH };
}

export interface N8nAiModules {
	sdk: AiNodeSdk;
	/** Where the SDK was loaded from, for the log. */
	sdkPath: string;
	/** zod-to-json-schema as the SDK's own utilities use it; undefined if it cannot be found. */
	zodToJsonSchema?: ZodConverter;
}

function zodToJsonSchemaBeside(sdkPath: string): ZodConverter | undefined {
	// The SDK converts through its utilities package, which depends on zod-to-json-schema.
	const places = [resolveFrom(sdkPath, '@n8n/ai-utilities'), sdkPath].filter(
		(p): p is string => p !== undefined,
	);
	for (const place of places) {
		const resolved = resolveFrom(place, 'zod-to-json-schema');
		if (!resolved) continue;
		const loaded = ownRequire(resolved) as { default?: unknown; zodToJsonSchema?: unknown };
		const convert = loaded.zodToJsonSchema ?? loaded.default;
		if (typeof convert === 'function') return convert as ZodConverter;
	}
	return undefined;
}

/** n8n's SDK, preferring n8n's copy over one installed beside this package. */
export function loadN8nAiModules(location: N8nLocation): N8nAiModules {
	const sdkPath = resolveN8nModule(SDK, location) ?? ownRequire.resolve(SDK);
	const sdk = ownRequire(sdkPath) as AiNodeSdk;
	return { sdk, sdkPath, zodToJsonSchema: zodToJsonSchemaBeside(sdkPath) };
}

let loaded: N8nAiModules | undefined;

/** The running n8n's SDK, loaded on first use (so the node's description loads without n8n). */
export function n8nAiModules(): N8nAiModules {
	loaded ??= loadN8nAiModules(currentN8nLocation());
	return loaded;
}
