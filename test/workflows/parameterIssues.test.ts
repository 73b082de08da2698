/**
 * The example workflows open in the editor without a red triangle: every node's parameters
 * go through n8n-workflow's own parameter validation (what the editor runs for its issue
 * markers), with this package's node descriptions and n8n's stock ones from the pinned n8n.
 * Also: parameters saved before Tier Options and the model picker still load.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import { describe, it } from 'node:test';

import type {
	INode,
	INodeIssues,
	INodeParameters,
	INodeProperties,
	INodePropertyCollection,
	INodeType,
	INodeTypeDescription,
	IVersionedNodeType,
} from 'n8n-workflow';

import { HumanReview } from '../../nodes/HumanReview/HumanReview.node.ts';
import { HumanReviewLink } from '../../nodes/HumanReviewLink/HumanReviewLink.node.ts';
import { ResilienceAlert } from '../../nodes/ResilienceAlert/ResilienceAlert.node.ts';
import { ResilientChatModel } from '../../nodes/ResilientChatModel/ResilientChatModel.node.ts';
import { ResilientLlm } from '../../nodes/ResilientLlm/ResilientLlm.node.ts';
import { ensureRuntime } from '../harness/runtime';
import { workflowFiles } from '../harness/stack';

// The pinned n8n's own n8n-workflow and stock nodes: what its editor validates with.
const runtime = createRequire(join(ensureRuntime(), 'node_modules', 'noop.js'));
const { NodeHelpers } = runtime('n8n-workflow') as typeof import('n8n-workflow');
/** Each stock package's root and node files, by the type prefix its nodes have. */
const STOCK_PACKAGES = Object.fromEntries(
	['n8n-nodes-base', '@n8n/n8n-nodes-langchain'].map((name) => {
		const root = join(runtime.resolve(`${name}/package.json`), '..');
		const files = (
			JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
				n8n: { nodes: string[] };
			}
		).n8n.nodes;
		return [name, { root, files }];
	}),
);

const OURS: Record<string, INodeType> = {
	'n8n-nodes-resilient-llm.resilientLlm': new ResilientLlm(),
	'n8n-nodes-resilient-llm.resilientChatModel': new ResilientChatModel(),
	'n8n-nodes-resilient-llm.humanReview': new HumanReview(),
	'n8n-nodes-resilient-llm.humanReviewLink': new HumanReviewLink(),
	'n8n-nodes-resilient-llm.resilienceAlert': new ResilienceAlert(),
};

/** A node type's description for one saved node, ours or n8n's stock ones. */
function descriptionOf(node: INode): INodeTypeDescription {
	const ours = OURS[node.type];
	if (ours) {
		const versions = ours.description.version;
		assert.ok(
			(Array.isArray(versions) ? versions : [versions]).includes(node.typeVersion),
			`${node.name}: type version ${node.typeVersion} is not one of ${JSON.stringify(versions)}`,
		);
		return ours.description;
	}
	const [packageName, name] = [
		node.type.slice(0, node.type.lastIndexOf('.')),
		node.type.slice(node.type.lastIndexOf('.') + 1),
	];
	const stock = STOCK_PACKAGES[packageName];
	assert.ok(stock, `${node.name}: ${node.type} is neither this package's nor a stock node`);
	const file = stock.files.find(
		(f) => basename(f).toLowerCase() === `${name.toLowerCase()}.node.js`,
	);
	assert.ok(file, `${node.name}: no stock node file for ${node.type}`);
	const exports = runtime(join(stock.root, file)) as Record<
		string,
		new () => INodeType | IVersionedNodeType
	>;
	const type = new (Object.values(exports)[0])();
	const described = 'nodeVersions' in type ? type.getNodeType(node.typeVersion) : type;
	return described.description;
}

/**
 * What the editor's parameter input adds on top: a choice whose value is not among its
 * options ("The value … is not supported!"), at any depth.
 */
function unsupportedChoices(
	properties: INodeProperties[],
	values: INodeParameters,
	root: INodeParameters,
	node: INode,
	description: INodeTypeDescription,
	path: string,
): string[] {
	const found: string[] = [];
	for (const property of properties) {
		const value = values[property.name];
		if (value === undefined) continue;
		if (!NodeHelpers.displayParameter(values, property, node, description, root)) continue;
		const here = `${path}${property.name}`;
		// Choices loaded at edit time (a provider's model list) are the service's to check.
		const loaded = property.typeOptions?.loadOptions ?? property.typeOptions?.loadOptionsMethod;
		if ((property.type === 'options' || property.type === 'multiOptions') && loaded) continue;
		if (property.type === 'options' || property.type === 'multiOptions') {
			const allowed = (property.options ?? []).map((o) => (o as { value: unknown }).value);
			const chosen = Array.isArray(value) ? value : [value];
			for (const v of chosen) {
				if (typeof v === 'string' && v.startsWith('=')) continue;
				if (!allowed.includes(v as string)) found.push(`${here}: "${String(v)}" is not supported`);
			}
		} else if (property.type === 'collection' && typeof value === 'object' && value !== null) {
			found.push(
				...unsupportedChoices(
					property.options as INodeProperties[],
					value as INodeParameters,
					root,
					node,
					description,
					`${here}.`,
				),
			);
		} else if (property.type === 'fixedCollection' && typeof value === 'object' && value !== null) {
			for (const entry of (property.options ?? []) as INodePropertyCollection[]) {
				const entries = (value as Record<string, unknown>)[entry.name];
				const list = Array.isArray(entries) ? entries : entries ? [entries] : [];
				list.forEach((item, i) =>
					found.push(
						...unsupportedChoices(
							entry.values,
							item as INodeParameters,
							root,
							node,
							description,
							`${here}.${entry.name}[${i}].`,
						),
					),
				);
			}
		}
	}
	return found;
}

/** The issues the editor marks on a node: its parameters, then credentials it needs and lacks. */
function issuesOf(node: INode): INodeIssues | null {
	const description = descriptionOf(node);
	// The editor fills in defaults before it validates.
	const parameters = NodeHelpers.getNodeParameters(
		description.properties,
		node.parameters,
		true,
		false,
		node,
		description,
	) as INodeParameters;
	const issues: INodeIssues =
		NodeHelpers.getNodeParametersIssues(
			description.properties,
			{ ...node, parameters },
			description,
		) ?? {};
	const unsupported = unsupportedChoices(
		description.properties,
		parameters,
		parameters,
		node,
		description,
		'',
	);
	if (unsupported.length > 0) issues.parameters = { ...issues.parameters, options: unsupported };
	for (const credential of description.credentials ?? []) {
		const shown = NodeHelpers.displayParameterPath(parameters, credential, '', node, description);
		if (shown && credential.required && !node.credentials?.[credential.name]) {
			issues.credentials ??= {};
			issues.credentials[credential.name] = [`Credentials for ${node.name} are not set.`];
		}
	}
	return Object.keys(issues).length === 0 ? null : issues;
}

describe('example workflows in the editor', () => {
	for (const file of workflowFiles()) {
		it(`${file.file}: no node shows an issue`, () => {
			const nodes = file.json.nodes as INode[];
			assert.ok(
				nodes.some((n) => n.type in OURS),
				'it uses this package',
			);
			for (const node of nodes) assert.deepEqual(issuesOf(node), null, node.name);
		});
	}

	it('the check finds issues when there are some', () => {
		// An empty model, a prompt left out, and the Redis store without its credential.
		const node: INode = {
			id: 'n1',
			name: 'Resilient LLM',
			type: 'n8n-nodes-resilient-llm.resilientLlm',
			typeVersion: 1,
			position: [0, 0],
			parameters: {
				chain: { tiers: [{ provider: 'openai', model: { __rl: true, mode: 'list', value: '' } }] },
				options: { stateStore: 'redis' },
			},
		};
		const issues = issuesOf(node);
		assert.deepEqual(Object.keys(issues?.parameters ?? {}).sort(), ['model', 'prompt']);
		// And a provider the dropdown does not offer.
		const unknown = issuesOf({
			...node,
			parameters: { prompt: 'hi', chain: { tiers: [{ provider: 'mistral', model: 'x' }] } },
		});
		assert.deepEqual(issues && unknown?.parameters?.options, [
			'chain.tiers[0].provider: "mistral" is not supported',
		]);
		assert.deepEqual(Object.keys(issues?.credentials ?? {}), ['resilientLlmRedisApi']);
	});
});

describe('parameters saved before Tier Options and the model picker', () => {
	const description = new ResilientLlm().description;
	const saved: INodeParameters = {
		prompt: '={{ $json.text }}',
		chain: {
			tiers: [
				{
					provider: 'openai_compatible',
					model: 'llama3.2',
					attempts: 2,
					baseUrl: 'http://127.0.0.1:8000/v1',
					contextWindow: 8192,
					inputPrice: 0.5,
				},
			],
		},
	};
	const node: INode = {
		id: 'n1',
		name: 'Resilient LLM',
		type: 'n8n-nodes-resilient-llm.resilientLlm',
		typeVersion: 1,
		position: [0, 0],
		parameters: saved,
	};

	it('keep every value when n8n loads them, as it does before each run', () => {
		const loaded = NodeHelpers.getNodeParameters(
			description.properties,
			saved,
			true,
			false,
			node,
			description,
		) as { chain: { tiers: Array<Record<string, unknown>> } };
		const [tier] = loaded.chain.tiers;
		assert.equal(tier.model, 'llama3.2');
		assert.equal(tier.baseUrl, 'http://127.0.0.1:8000/v1');
		assert.equal(tier.contextWindow, 8192);
		assert.equal(tier.inputPrice, 0.5);
		assert.equal(tier.attempts, 2);
	});

	it('show no issue', () => {
		assert.equal(issuesOf(node), null);
	});
});
