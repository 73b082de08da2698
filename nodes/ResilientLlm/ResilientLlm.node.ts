import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { CHAIN_CREDENTIALS, CHAIN_SUBTITLE } from '../shared/chainProperties';
import { inputsExpression } from '../shared/connectedModels';
import { listModels } from '../shared/modelSearch';
import { REDIS_CREDENTIAL_TESTS } from '../shared/stateStoreParameters';
import { properties } from './description';
import { ItemOutputs } from './itemOutputs';
import { openItemsRun } from './itemsRun';
import { prepareItems } from './prepareItems';
import { runItems } from './runItems';

export class ResilientLlm implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Resilient LLM',
		name: 'resilientLlm',
		icon: { light: 'file:resilientLlm.svg', dark: 'file:resilientLlm.dark.svg' },
		group: ['transform'],
		// Listed as versions so that a change saved workflows cannot take ships as version 2.
		version: [1],
		defaultVersion: 1,
		subtitle: CHAIN_SUBTITLE,
		description:
			'Ask an LLM with retries, failover across models and providers, and a Needs Human output for what no model could answer',
		defaults: { name: 'Resilient LLM' },
		usableAsTool: true,
		inputs: inputsExpression(true),
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Answered', 'Needs Human'],
		credentials: CHAIN_CREDENTIALS,
		properties,
	};

	methods = {
		credentialTest: REDIS_CREDENTIAL_TESTS,
		listSearch: { listModels },
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const outputs = new ItemOutputs(items);
		const run = await openItemsRun(this);
		// Every item's parameters are checked before any provider is called.
		const prepared = await prepareItems(this, run, items.length, outputs);
		await runItems(this, run, prepared, outputs);
		return outputs.lists();
	}
}
