/**
 * The package installed the README's manual way, `npm install` in `.n8n/nodes`, into a real
 * n8n 2.41.1: npm installs the package's peers that are not optional beside it. An AI Agent
 * with a Code Tool (its input schema typed in, as in `workflows/support-agent.json`) on
 * Resilient Chat Model, Anthropic failing over to OpenAI: each provider must get the tool's
 * parameters as JSON Schema.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';

import Ajv from 'ajv';

import type { ExecutionItem } from '../harness/n8n';
import { PACKAGE_NAME } from '../harness/n8n';
import { agentWorkflow, codeTool } from '../support/agentWorkflows';
import { KEYS, MODELS } from '../support/emulator';
import { useN8n } from '../support/n8nFixture';

const ctx = useN8n({ install: 'npm' });

const LOOKUP_SCHEMA = {
	type: 'object',
	properties: { orderId: { type: 'string', description: 'The order number, e.g. 1001' } },
	required: ['orderId'],
};

const LOOKUP_CODE = `const orders = { '1001': { orderId: '1001', item: 'Blender', status: 'delivered' } };
return JSON.stringify(orders[String(query.orderId)] ?? { error: 'No such order' });`;

const FINAL_ANSWER = 'Order 1001, a blender, was delivered.';

/** Compiles as JSON Schema in Ajv's strict mode (an unknown keyword such as `_def` fails) and checks it. */
function assertOrderLookupSchema(schema: unknown, where: string): void {
	const text = JSON.stringify(schema);
	assert.ok(!/"_def"|"~standard"|"_zod"/.test(text), `${where} got a Zod object: ${text}`);
	const validate = new Ajv({ strict: true }).compile(schema as object);
	assert.equal(validate({ orderId: '1001' }), true, `${where}: ${text}`);
	assert.equal(validate({}), false, `${where}: orderId is required: ${text}`);
	const properties = (schema as { properties: Record<string, { type: string }> }).properties;
	assert.equal(properties.orderId.type, 'string');
}

describe('Installed with npm in .n8n/nodes, as the README says', () => {
	it('uses n8n’s own AI node SDK, not a copy beside the package', () => {
		const modules = join(ctx.n8n.userFolder, '.n8n', 'nodes', 'node_modules');
		assert.ok(existsSync(join(modules, PACKAGE_NAME, 'package.json')), 'the package is installed');
		const scoped = existsSync(join(modules, '@n8n')) ? readdirSync(join(modules, '@n8n')) : [];
		assert.ok(!scoped.includes('ai-node-sdk'), `npm installed beside the package: @n8n/${scoped}`);
	});

	it('AI Agent with a Code Tool: both providers get the tool’s parameters as JSON Schema, and the tool runs', async () => {
		ctx.emulator.loadScenario({
			apiKeys: KEYS,
			turns: [
				{ toolCalls: [{ name: 'Order_Lookup', arguments: { orderId: '1001' } }] },
				{ reply: FINAL_ANSWER },
			],
			rules: [{ provider: 'anthropic', afterCalls: 1, fault: 'overloaded' }],
		});
		ctx.emulator.resetCounts();
		const tier = (provider: 'anthropic' | 'openai') => ({
			provider,
			model: MODELS[provider],
			attempts: 1,
			timeoutSeconds: 10,
		});
		const id = await ctx.n8n.createWorkflow(
			agentWorkflow({
				name: 'npm install: agent with a Code Tool',
				path: 'npm-install-agent',
				chatModel: {
					chain: { tiers: [tier('anthropic'), tier('openai')] },
					criticality: 'standard',
					options: { initialBackoffMs: 20, circuitBreaker: false, recordMetrics: false },
				},
				credentials: ctx.credentials,
				tools: [
					codeTool(
						'Order Lookup',
						'Looks up an order by its number',
						LOOKUP_CODE,
						LOOKUP_SCHEMA,
						[460, 220],
					),
				],
			}),
		);
		const response = await ctx.n8n.webhook('npm-install-agent', {
			message: 'Where is order 1001?',
		});
		const execution = await ctx.n8n.latestExecution(id);
		assert.equal(
			response.status,
			200,
			JSON.stringify({ body: response.body, error: execution.data?.resultData.error }),
		);

		// Anthropic answered the first call (the tool call) and failed the second.
		const [anthropicCall] = ctx.emulator.received('anthropic');
		const anthropicTool = (
			anthropicCall.body.tools as Array<{ name: string; input_schema: unknown }>
		).find((t) => t.name === 'Order_Lookup');
		assert.ok(anthropicTool, JSON.stringify(anthropicCall.body.tools));
		assertOrderLookupSchema(anthropicTool.input_schema, 'Anthropic');

		const openAiCalls = ctx.emulator.received('openai');
		assert.equal(openAiCalls.length, 1, 'OpenAI answered the second call');
		const openAiTool = (
			openAiCalls[0].body.tools as Array<{ function: { name: string; parameters: unknown } }>
		).find((t) => t.function.name === 'Order_Lookup');
		assert.ok(openAiTool, JSON.stringify(openAiCalls[0].body.tools));
		assertOrderLookupSchema(openAiTool.function.parameters, 'OpenAI');

		// The tool ran with the model's arguments, and its result reached the model.
		assert.equal(openAiCalls[0].toolResults, 1);
		assert.match(JSON.stringify(openAiCalls[0].body.messages), /Blender/);
		const output = (execution.data?.resultData.runData['AI Agent']?.[0]?.data?.main?.[0] ??
			[]) as ExecutionItem[];
		assert.equal(output[0]?.json.output, FINAL_ANSWER);
	});
});
