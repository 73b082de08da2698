/**
 * The example workflows connect to the credentials a user makes in n8n's credential dialog
 * without renaming them, and name only those their nodes use: n8n refuses to run a node
 * whose credential slot names one it cannot find, even a slot no tier needs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import type { ICredentialType } from 'n8n-workflow';

import { ResilientLlmAnthropicApi } from '../../credentials/ResilientLlmAnthropicApi.credentials';
import { ResilientLlmGeminiApi } from '../../credentials/ResilientLlmGeminiApi.credentials';
import { ResilientLlmOllamaApi } from '../../credentials/ResilientLlmOllamaApi.credentials';
import { ResilientLlmOpenAiApi } from '../../credentials/ResilientLlmOpenAiApi.credentials';
import { ResilientLlmRedisApi } from '../../credentials/ResilientLlmRedisApi.credentials';
import { isProviderName, providerOf } from '../../lib/providers/registry';
import { ROOT } from '../harness/pack';
import { ensureRuntime } from '../harness/runtime';
import { CREDENTIAL_NAMES, workflowFiles } from '../harness/stack';
import { proposedCredentialName } from '../support/credentialNames';

interface SavedNode {
	name: string;
	type: string;
	parameters: { chain?: { tiers?: Array<{ provider?: string }> } };
	credentials?: Record<string, { id: unknown; name: string }>;
}

const OURS: ICredentialType[] = [
	new ResilientLlmAnthropicApi(),
	new ResilientLlmOpenAiApi(),
	new ResilientLlmGeminiApi(),
	new ResilientLlmOllamaApi(),
	new ResilientLlmRedisApi(),
];

const stock = new Map<string, string>();

/** The packages of the pinned n8n whose credential types the examples use. */
const STOCK_PACKAGES = ['n8n-nodes-base', '@n8n/n8n-nodes-langchain'];

/**
 * The display name of a credential type: ours, or a stock one's from the pinned n8n
 * (n8n-nodes-base, or n8n-nodes-langchain for the chat model nodes' Groq, Ollama...).
 */
function displayNameOf(type: string): string {
	const ours = OURS.find((c) => c.name === type);
	if (ours) return ours.displayName;
	if (stock.size === 0) readStockCredentials();
	const known = stock.get(type);
	if (known) return known;
	throw new Error(`no credential type ${type} in this package or ${STOCK_PACKAGES.join(', ')}`);
}

function readStockCredentials(): void {
	const runtime = createRequire(join(ensureRuntime(), 'node_modules', 'noop.js'));
	for (const name of STOCK_PACKAGES) {
		const root = join(runtime.resolve(`${name}/package.json`), '..');
		const files = (
			JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
				n8n: { credentials: string[] };
			}
		).n8n.credentials;
		for (const file of files) {
			const exported = runtime(join(root, file)) as Record<string, unknown>;
			for (const Type of Object.values(exported)) {
				// Credential classes only: a file may export helpers beside its class.
				if (typeof Type !== 'function' || !/^class\b/.test(Function.prototype.toString.call(Type)))
					continue;
				const credential = new (Type as new () => ICredentialType)();
				stock.set(credential.name, credential.displayName);
			}
		}
	}
}

const LLM_TYPES = [
	'n8n-nodes-resilient-llm.resilientLlm',
	'n8n-nodes-resilient-llm.resilientChatModel',
];

describe('example workflows and credentials', () => {
	const files = workflowFiles();

	it('name each credential as the credential dialog proposes it for its type', () => {
		const wrong: string[] = [];
		for (const file of files)
			for (const node of file.json.nodes as SavedNode[])
				for (const [type, ref] of Object.entries(node.credentials ?? {})) {
					const proposed = proposedCredentialName(displayNameOf(type));
					if (ref.name !== proposed)
						wrong.push(
							`${file.file} › ${node.name}: "${ref.name}" for ${type}, n8n proposes "${proposed}"`,
						);
				}
		assert.deepEqual(wrong, []);
	});

	it('are run by the tests and the demo on credentials under those names', () => {
		for (const [type, name] of Object.entries(CREDENTIAL_NAMES))
			assert.equal(name, proposedCredentialName(displayNameOf(type)), type);
	});

	it('give each model node the credentials of the providers its tiers use, and no other', () => {
		for (const file of files)
			for (const node of (file.json.nodes as SavedNode[]).filter((n) =>
				LLM_TYPES.includes(n.type),
			)) {
				// A connected tier's credential is on its chat model node, not on this one.
				const used = new Set(
					(node.parameters.chain?.tiers ?? []).flatMap((tier) => {
						assert.ok(
							isProviderName(tier.provider),
							`${file.file} › ${node.name}: ${tier.provider}`,
						);
						const type = providerOf(tier.provider).credential.type;
						return type ? [type] : [];
					}),
				);
				assert.deepEqual(
					Object.keys(node.credentials ?? {}).sort(),
					[...used].sort(),
					`${file.file} › ${node.name}`,
				);
			}
	});

	it("are listed in the README's Usage with every credential each one needs", () => {
		const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
		const usage = readme.slice(
			readme.indexOf('\n## Usage'),
			readme.indexOf('\n## Provider emulator'),
		);
		for (const file of files) {
			const section = usage.slice(usage.indexOf(`\n### ${file.file}`));
			assert.ok(section.length < usage.length, `README Usage has no section for ${file.file}`);
			const own = section.slice(
				0,
				section.indexOf('\n### ', 1) === -1 ? undefined : section.indexOf('\n### ', 1),
			);
			const names = new Set(
				(file.json.nodes as SavedNode[]).flatMap((n) =>
					Object.values(n.credentials ?? {}).map((r) => r.name),
				),
			);
			for (const name of names)
				assert.ok(own.includes(`*${name}*`), `README Usage, ${file.file}: does not name *${name}*`);
		}
	});
});
