/**
 * Every string and choice the editor shows, checked in process: options that have options,
 * defaults that are among them, expressions that parse and use n8n's real variables, and
 * words the way n8n writes them. Then the parts the provider registry decides.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import type {
	ICredentialType,
	INodeProperties,
	INodePropertyCollection,
	INodePropertyOptions,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { ExpressionParser } from 'n8n-workflow';

import { ResilientLlmAnthropicApi } from '../../credentials/ResilientLlmAnthropicApi.credentials';
import { ResilientLlmGeminiApi } from '../../credentials/ResilientLlmGeminiApi.credentials';
import { ResilientLlmOllamaApi } from '../../credentials/ResilientLlmOllamaApi.credentials';
import { ResilientLlmOpenAiApi } from '../../credentials/ResilientLlmOpenAiApi.credentials';
import { ResilientLlmOpenAiCompatibleApi } from '../../credentials/ResilientLlmOpenAiCompatibleApi.credentials';
import { ResilientLlmRedisApi } from '../../credentials/ResilientLlmRedisApi.credentials';
import { DEFAULT_BACKOFF } from '../../lib/engine/backoff';
import { DEFAULT_BREAKER_POLICY } from '../../lib/engine/breaker/circuitBreaker';
import {
	BACKOFF_DEFAULTS,
	BREAKER_DEFAULTS,
	CHAIN_DEFAULTS,
	RUN_DEFAULTS,
} from '../../lib/engine/defaults';
import { DEFAULTS } from '../../lib/engine/failoverChain';
import { PROVIDERS } from '../../lib/providers/registry';
import { HumanReview } from '../../nodes/HumanReview/HumanReview.node.ts';
import { HumanReviewLink } from '../../nodes/HumanReviewLink/HumanReviewLink.node.ts';
import { ResilienceAlert } from '../../nodes/ResilienceAlert/ResilienceAlert.node.ts';
import { ResilientChatModel } from '../../nodes/ResilientChatModel/ResilientChatModel.node.ts';
import { OPTIONS_LEFT_OUT } from '../../nodes/ResilientChatModel/description';
import { ResilientLlm } from '../../nodes/ResilientLlm/ResilientLlm.node.ts';

const NODES: INodeType[] = [
	new ResilientLlm(),
	new ResilientChatModel(),
	new HumanReview(),
	new HumanReviewLink(),
	new ResilienceAlert(),
];
const CREDENTIALS: ICredentialType[] = [
	new ResilientLlmAnthropicApi(),
	new ResilientLlmOpenAiApi(),
	new ResilientLlmOpenAiCompatibleApi(),
	new ResilientLlmGeminiApi(),
	new ResilientLlmOllamaApi(),
	new ResilientLlmRedisApi(),
];

/** The variables n8n's expressions know (credentials' own expressions add `$credentials`). */
const N8N_VARIABLES = new Set([
	'$json',
	'$binary',
	'$input',
	'$execution',
	'$parameter',
	'$node',
	'$now',
	'$today',
	'$workflow',
	'$vars',
	'$env',
	'$prevNode',
	'$runIndex',
	'$itemIndex',
	'$fromAI',
	'$jmespath',
	'$if',
	'$min',
	'$max',
	'$',
]);

interface Found {
	/** Where in the description, e.g. `Resilient LLM › chain › tiers › provider`. */
	at: string;
	property: INodeProperties;
}

function isCollectionEntry(value: unknown): value is INodePropertyCollection {
	return typeof value === 'object' && value !== null && 'values' in value;
}

function isProperty(value: unknown): value is INodeProperties {
	return typeof value === 'object' && value !== null && 'type' in value && 'name' in value;
}

/** Every parameter, nested ones included (collection options, fixedCollection values). */
function allProperties(properties: INodeProperties[], at: string): Found[] {
	const found: Found[] = [];
	for (const property of properties) {
		const here = `${at} › ${property.name}`;
		found.push({ at: here, property });
		for (const option of property.options ?? []) {
			if (isCollectionEntry(option))
				found.push(...allProperties(option.values, `${here} › ${option.name}`));
			else if (isProperty(option)) found.push(...allProperties([option], here));
		}
	}
	return found;
}

/** Every text a person reads or n8n evaluates in a parameter, with where it is. */
function textsOf({ at, property }: Found): Array<[string, string]> {
	const texts: Array<[string, string]> = [];
	const add = (where: string, value: unknown) => {
		if (typeof value === 'string' && value !== '') texts.push([where, value]);
	};
	add(`${at}.displayName`, property.displayName);
	add(`${at}.description`, property.description);
	add(`${at}.placeholder`, property.placeholder);
	add(`${at}.hint`, property.hint);
	add(`${at}.default`, property.default);
	for (const mode of property.modes ?? []) {
		add(`${at}.modes.${mode.name}.displayName`, mode.displayName);
		add(`${at}.modes.${mode.name}.placeholder`, mode.placeholder);
	}
	for (const option of property.options ?? []) {
		if (isCollectionEntry(option) || isProperty(option)) continue;
		const o = option;
		add(`${at}.options.${String(o.value)}.name`, o.name);
		add(`${at}.options.${String(o.value)}.description`, o.description);
	}
	return texts;
}

const NODE_PARAMETERS = NODES.flatMap((node) =>
	allProperties(node.description.properties, node.description.displayName),
);
const CREDENTIAL_PARAMETERS = CREDENTIALS.flatMap((credential) =>
	allProperties(credential.properties, credential.displayName),
);

/** Expressions in a text: `{{ … }}` inside prose, or the whole value when it starts with `=`. */
function expressionsIn(text: string): string[] {
	if (!text.includes('{{')) return [];
	const source = text.startsWith('=') ? text.slice(1) : text;
	return ExpressionParser.splitExpression(source)
		.filter((chunk) => chunk.type === 'code')
		.map((chunk) => {
			assert.ok(
				chunk.type === 'code' && chunk.hasClosingBrackets,
				`unclosed {{ in ${JSON.stringify(text)}`,
			);
			return chunk.text;
		});
}

function checkExpression(where: string, code: string, extraVariables: string[] = []): void {
	assert.doesNotThrow(
		// Compiles without running: a syntax error in the expression throws here.
		() => new Function(`return (${code});`),
		`${where}: {{${code}}} does not parse`,
	);
	for (const match of code.matchAll(/\$[A-Za-z_]\w*|\$(?=\()/g)) {
		const variable = match[0];
		assert.ok(
			N8N_VARIABLES.has(variable) || extraVariables.includes(variable),
			`${where}: {{${code}}} uses ${variable}, which n8n does not know`,
		);
	}
}

/**
 * A node's inputs as n8n computes them from its parameters: its `inputs` expression run the
 * way n8n's expression sandbox runs it, on the source text alone.
 */
function inputsOf(
	node: INodeTypeDescription,
	parameters: object,
): { type: string; displayName?: string }[] {
	if (Array.isArray(node.inputs)) return node.inputs as { type: string }[];
	const body = String(node.inputs)
		.replace(/^=\{\{/, '')
		.replace(/\}\}$/, '');
	return new Function('$parameter', `return (${body});`)(parameters) as { type: string }[];
}

describe('node descriptions', () => {
	it('every node lists its versions, so a change saved workflows cannot take ships as a new one', () => {
		for (const node of NODES) {
			const { version, defaultVersion, name } = node.description;
			assert.ok(Array.isArray(version), `${name}: version is a list`);
			assert.equal(defaultVersion, Math.max(...version), `${name}: new nodes get the newest`);
		}
	});

	it('every options and multiOptions parameter has options or a method that loads them', () => {
		const choices = NODE_PARAMETERS.filter(
			(f) => f.property.type === 'options' || f.property.type === 'multiOptions',
		);
		assert.ok(choices.length >= 8, `found only ${choices.length} choice parameters`);
		for (const { at, property } of choices) {
			const loader = property.typeOptions?.loadOptionsMethod;
			assert.ok(
				(property.options?.length ?? 0) > 0 || typeof loader === 'string',
				`${at} offers nothing to choose`,
			);
		}
	});

	it('every parameter has a default of its own type', () => {
		const typeOfDefault: Record<string, string> = {
			string: 'string',
			number: 'number',
			boolean: 'boolean',
			options: 'string',
			hidden: 'string',
			collection: 'object',
			fixedCollection: 'object',
			json: 'string',
			resourceLocator: 'object',
		};
		for (const { at, property } of NODE_PARAMETERS) {
			assert.notEqual(property.default, undefined, `${at} has no default`);
			const expected = typeOfDefault[property.type];
			if (expected === undefined || property.type === 'hidden') continue;
			assert.equal(typeof property.default, expected, `${at}: default of a ${property.type}`);
		}
	});

	it("the chain's defaults are the engine's: every number and switch default is read from one place", () => {
		const options = new ResilientLlm().description.properties.find((p) => p.name === 'options');
		const byName = new Map(
			(options?.options as INodeProperties[]).map((option) => [option.name, option.default]),
		);
		assert.equal(byName.get('deadlineSeconds'), CHAIN_DEFAULTS.deadlineMs / 1000);
		assert.equal(byName.get('maxOutputTokens'), CHAIN_DEFAULTS.maxOutputTokens);
		assert.equal(byName.get('temperature'), CHAIN_DEFAULTS.temperature);
		assert.equal(byName.get('initialBackoffMs'), BACKOFF_DEFAULTS.initialDelayMs);
		assert.equal(byName.get('maxRetryWaitSeconds'), BACKOFF_DEFAULTS.maxHintMs / 1000);
		assert.equal(byName.get('breakerThreshold'), BREAKER_DEFAULTS.failureThreshold);
		assert.equal(byName.get('breakerCooldownSeconds'), BREAKER_DEFAULTS.openMs / 1000);
		assert.equal(byName.get('concurrency'), RUN_DEFAULTS.concurrency);
		// The engine's fallbacks are the same object, not a copy that can drift.
		assert.equal(DEFAULT_BREAKER_POLICY, BREAKER_DEFAULTS);
		assert.equal(DEFAULT_BACKOFF, BACKOFF_DEFAULTS);
		assert.equal(DEFAULTS, CHAIN_DEFAULTS);
	});

	it('every default of a choice is one of its options', () => {
		for (const { at, property } of NODE_PARAMETERS) {
			if (property.type !== 'options' && property.type !== 'multiOptions') continue;
			const values = (property.options as INodePropertyOptions[]).map((o) => o.value);
			const defaults = property.type === 'multiOptions' ? property.default : [property.default];
			for (const value of defaults as unknown[])
				assert.ok(
					values.includes(value as string),
					`${at}: default ${JSON.stringify(value)} not in ${JSON.stringify(values)}`,
				);
		}
	});

	it("every model picker's list method exists on its node", () => {
		for (const node of NODES) {
			const pickers = allProperties(node.description.properties, node.description.name).filter(
				(f) => f.property.type === 'resourceLocator',
			);
			for (const { at, property } of pickers) {
				for (const mode of property.modes ?? []) {
					const method = mode.typeOptions?.searchListMethod;
					if (!method) continue;
					assert.equal(
						typeof node.methods?.listSearch?.[method],
						'function',
						`${at}: listSearch.${method} is missing`,
					);
				}
			}
		}
	});

	it('every expression in a placeholder, default, hint or description parses and uses real variables', () => {
		let checked = 0;
		for (const found of NODE_PARAMETERS) {
			for (const [where, text] of textsOf(found)) {
				for (const code of expressionsIn(text)) {
					checkExpression(where, code);
					checked++;
				}
			}
		}
		for (const node of NODES) {
			const subtitle = node.description.subtitle;
			if (typeof subtitle === 'string')
				for (const code of expressionsIn(subtitle)) {
					checkExpression(`${node.description.name}.subtitle`, code);
					checked++;
				}
		}
		// The Idempotency Key and Title placeholders, and the subtitle, at least.
		assert.ok(checked >= 3, `only ${checked} expressions found`);
	});

	it("credentials' expressions parse and read only their own fields", () => {
		let checked = 0;
		for (const credential of CREDENTIALS) {
			const fields = credential.properties.map((p) => p.name);
			const texts = JSON.stringify([credential.authenticate ?? {}, credential.test ?? {}]);
			for (const text of (JSON.parse(texts, (_k, v: unknown) => v) as unknown[]).flatMap(
				function collect(value: unknown): string[] {
					if (typeof value === 'string') return [value];
					if (value && typeof value === 'object') return Object.values(value).flatMap(collect);
					return [];
				},
			)) {
				for (const code of expressionsIn(text)) {
					checkExpression(credential.name, code, ['$credentials']);
					for (const field of code.matchAll(/\$credentials\.(\w+)/g))
						assert.ok(
							fields.includes(field[1]),
							`${credential.name}: {{${code}}} reads $credentials.${field[1]}, which it does not have`,
						);
					checked++;
				}
			}
		}
		assert.ok(checked >= 8, `only ${checked} credential expressions found`);
	});

	it('n8n and $json are written the way n8n writes them', () => {
		const texts = [...NODE_PARAMETERS, ...CREDENTIAL_PARAMETERS].flatMap(textsOf);
		for (const node of NODES)
			texts.push([`${node.description.name}.description`, node.description.description]);
		for (const credential of CREDENTIALS)
			texts.push([`${credential.name}.displayName`, credential.displayName]);
		assert.ok(texts.length > 100, `only ${texts.length} texts found`);
		for (const [where, text] of texts) {
			assert.doesNotMatch(text, /N8n|N8N\b/, `${where}: ${JSON.stringify(text)}`);
			assert.doesNotMatch(text, /\$JSON|\$Json/, `${where}: ${JSON.stringify(text)}`);
		}
	});
});

describe('Resilient Chat Model takes its parameters from Resilient LLM', () => {
	const llm = new ResilientLlm().description;
	const chat = new ResilientChatModel().description;
	const named = (properties: INodeProperties[], name: string) =>
		properties.find((p) => p.name === name);

	it('the same Model Chain, tier fields and credentials, the same objects', () => {
		assert.equal(named(chat.properties, 'chain'), named(llm.properties, 'chain'));
		assert.deepEqual(chat.credentials, llm.credentials);
	});

	it('the same options with the same defaults, less those about items', () => {
		const llmOptions = named(llm.properties, 'options')?.options as INodeProperties[];
		const chatOptions = named(chat.properties, 'options')?.options as INodeProperties[];
		assert.deepEqual(
			chatOptions.map((o) => o.name),
			llmOptions
				.map((o) => o.name)
				.filter((n) => !(OPTIONS_LEFT_OUT as readonly string[]).includes(n)),
		);
		for (const option of chatOptions)
			assert.equal(
				option,
				llmOptions.find((o) => o.name === option.name),
				option.name,
			);
	});

	it('a chat model: Model inputs only as many as asked for, one ai_languageModel output, listed with the chat models', () => {
		assert.deepEqual(inputsOf(chat, {}), [], 'none by default');
		assert.deepEqual(
			inputsOf(chat, { connectedModels: 2 }).map((i) => [i.type, i.displayName]),
			[
				['ai_languageModel', 'Model 1'],
				['ai_languageModel', 'Model 2'],
			],
		);
		assert.deepEqual(
			inputsOf(llm, {}).map((i) => i.type),
			['main'],
		);
		assert.deepEqual(
			inputsOf(llm, { connectedModels: 3 }).map((i) => i.type),
			['main', 'ai_languageModel', 'ai_languageModel', 'ai_languageModel'],
		);
		assert.deepEqual(chat.outputs, ['ai_languageModel']);
		const codex = JSON.parse(
			readFileSync(
				join(__dirname, '..', '..', 'nodes', 'ResilientChatModel', 'ResilientChatModel.node.json'),
				'utf8',
			),
		) as { subcategories: Record<string, string[]> };
		assert.deepEqual(codex.subcategories['Language Models'], ['Chat Models (Recommended)']);
	});
});

describe('the provider registry decides', () => {
	const llm = new ResilientLlm();
	const tierFields = allProperties(llm.description.properties, 'llm').filter((f) =>
		f.at.startsWith('llm › chain › tiers ›'),
	);

	it('the Provider dropdown lists every registered provider, and nothing else', () => {
		const provider = tierFields.find((f) => f.at === 'llm › chain › tiers › provider');
		assert.ok(provider);
		assert.deepEqual(
			(provider.property.options as INodePropertyOptions[]).map((o) => [o.value, o.name]),
			[...PROVIDERS.map((p) => [p.id, p.label]), ['connected', 'Connected Chat Model']],
		);
	});

	it('the node has one credential slot for each credential type a provider uses, named for them', () => {
		const slots = (llm.description.credentials ?? []).filter(
			(c) => c.name !== 'resilientLlmRedisApi',
		);
		const types = [...new Set(PROVIDERS.map((p) => p.credential.type))].sort();
		assert.deepEqual(slots.map((s) => s.name).sort(), types);
		for (const slot of slots) {
			const users = PROVIDERS.filter((p) => p.credential.type === slot.name).map((p) => p.label);
			assert.equal(slot.displayName, users.join(' / '), `${slot.name} is labelled for its users`);
			assert.notEqual(slot.required, true, `${slot.name} must not demand attention when unused`);
		}
		const redis = llm.description.credentials?.find((c) => c.name === 'resilientLlmRedisApi');
		assert.deepEqual(redis?.displayOptions, { show: { '/options.stateStore': ['redis'] } });
	});

	it("under the provider slots, before anything else, a notice says only the Model Chain's providers need one", () => {
		// n8n shows a node's credential slots above its parameters, and a credential's
		// displayOptions cannot ask whether any tier of the Model Chain uses its provider: all
		// the slots stand there, so the first parameter says which of them matter.
		for (const node of [llm.description, new ResilientChatModel().description]) {
			const [first] = node.properties;
			assert.equal(first.type, 'notice', node.name);
			assert.equal(first.displayOptions, undefined, `${node.name}: shown whatever is chosen`);
			assert.match(
				first.displayName,
				/^Only the providers used in the Model Chain need a credential\b/,
			);
			assert.match(first.displayName, /uses invalid credential/);
		}
	});

	it('every node with a State Store shows its Redis slot, labelled, only when that is Redis', () => {
		// The Human Review Link node keeps no state: it only adds a link to its items.
		const stateful = NODES.filter((node) =>
			JSON.stringify(node.description.properties).includes('"name":"stateStore"'),
		);
		assert.deepEqual(
			NODES.filter((node) => !stateful.includes(node)).map((node) => node.description.name),
			['humanReviewLink'],
		);
		for (const node of stateful) {
			const redis = node.description.credentials?.find((c) => c.name === 'resilientLlmRedisApi');
			assert.equal(redis?.displayName, 'Redis (State Store)', node.description.name);
			// The Redis credential has no HTTP test of its own: the node's testedBy is its test.
			const test = typeof redis?.testedBy === 'string' ? redis.testedBy : '';
			assert.equal(
				typeof node.methods?.credentialTest?.[test],
				'function',
				`${node.description.name}: the Redis slot's testedBy names no test of the node`,
			);
			const [path, values] = Object.entries(redis?.displayOptions?.show ?? {})[0] ?? [];
			assert.match(path ?? '', /^\/?(options\.)?stateStore$/, node.description.name);
			assert.deepEqual(values, ['redis'], node.description.name);
		}
	});

	it('each provider credential type exists, with the display name the registry uses in messages', () => {
		for (const provider of PROVIDERS) {
			const credential = CREDENTIALS.find((c) => c.name === provider.credential.type);
			assert.ok(credential, `${provider.id}: no credential class ${provider.credential.type}`);
			assert.equal(credential.displayName, provider.credential.displayName);
		}
	});

	it('a tier is filled in the order a person fills it: Provider, Model, Attempts, Timeout, then Tier Options', () => {
		const visible = (llm.description.properties.find((p) => p.name === 'chain')?.options?.[0] as
			| INodePropertyCollection
			| undefined)!.values.filter((v) => v.type !== 'hidden');
		assert.deepEqual(
			visible.map((v) => v.displayName),
			['Provider', 'Connected Model', 'Model', 'Attempts', 'Timeout (Seconds)', 'Tier Options'],
		);
		// Either the Model input (a connected tier) or the model picker, never both.
		const shown = (name: string) => visible.find((v) => v.name === name)?.displayOptions;
		assert.deepEqual(shown('connectedModel'), { show: { provider: ['connected'] } });
		assert.deepEqual(shown('model'), { hide: { provider: ['connected'] } });
		const options = visible.find((v) => v.name === 'tierOptions');
		const tierOptions = options?.options as INodeProperties[];
		assert.deepEqual(
			tierOptions.map((o) => o.name),
			[
				'baseUrl',
				'contextWindow',
				'firstTokenTimeoutSeconds',
				'inputPrice',
				'outputPrice',
				'stallTimeoutSeconds',
			],
		);
		const defaults = new Map(tierOptions.map((o) => [o.name, o.default]));
		assert.equal(
			defaults.get('firstTokenTimeoutSeconds'),
			CHAIN_DEFAULTS.firstTokenTimeoutMs / 1000,
		);
		assert.equal(defaults.get('stallTimeoutSeconds'), CHAIN_DEFAULTS.stallTimeoutMs / 1000);
	});
});
