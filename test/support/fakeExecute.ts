/**
 * A stand-in for n8n's IExecuteFunctions with what the node calls. Parameters may be
 * functions of the item index, which is how expressions resolve per item in n8n.
 */
import type {
	ICredentialDataDecryptedObject,
	IDataObject,
	IExecuteFunctions,
	INode,
	INodeExecutionData,
	IPollFunctions,
} from 'n8n-workflow';

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type ParameterValue = unknown | ((itemIndex: number) => unknown);

export interface FakeRun {
	context: IExecuteFunctions;
	logs: Array<{ level: string; message: string; meta?: unknown }>;
}

export function fakeExecute(options: {
	items: Array<Record<string, unknown>>;
	parameters: Record<string, ParameterValue>;
	credentials?: Record<string, ICredentialDataDecryptedObject>;
	continueOnFail?: boolean;
	signal?: AbortSignal;
	/**
	 * n8n's per-node storage folder (the embedded state store lives there). As in n8n, there
	 * always is one: by default a new folder for this run alone.
	 */
	storagePath?: string;
	executionId?: string;
}): FakeRun {
	const logs: FakeRun['logs'] = [];
	const node: INode = {
		id: 'node-1',
		name: 'Resilient LLM',
		type: 'n8n-nodes-resilient-llm.resilientLlm',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	};
	const items: INodeExecutionData[] = options.items.map((json) => ({
		json: json as INodeExecutionData['json'],
	}));
	const log = (level: string) => (message: string, meta?: unknown) =>
		logs.push({ level, message, meta });
	const context = {
		getInputData: () => items,
		getNode: () => node,
		getWorkflow: () => ({ id: 'wf-1', name: 'Ticket summaries', active: true }),
		getExecutionId: () => options.executionId ?? 'exec-1',
		helpers: {
			getStoragePath: () =>
				(options.storagePath ??= mkdtempSync(join(tmpdir(), 'resilient-llm-storage-'))),
		},
		continueOnFail: () => options.continueOnFail ?? false,
		getExecutionCancelSignal: () => options.signal,
		getNodeParameter: (name: string, itemIndex: number, fallback?: unknown) => {
			if (!(name in options.parameters)) return fallback;
			const value = options.parameters[name];
			return typeof value === 'function' ? (value as (i: number) => unknown)(itemIndex) : value;
		},
		getCredentials: async (type: string) => {
			const credential = options.credentials?.[type];
			if (!credential)
				throw new Error(`Node "Resilient LLM" does not have any credentials of type "${type}" set`);
			return credential;
		},
		logger: { info: log('info'), debug: log('debug'), warn: log('warn'), error: log('error') },
	};
	return { context: context as unknown as IExecuteFunctions, logs };
}

/** A stand-in for n8n's IPollFunctions: parameters, and static data that lasts between polls. */
export function fakePoll(options: {
	parameters: Record<string, unknown>;
	staticData: IDataObject;
	credentials?: Record<string, ICredentialDataDecryptedObject>;
}): IPollFunctions {
	const node: INode = {
		id: 'alert-1',
		name: 'Resilience Alert',
		type: 'n8n-nodes-resilient-llm.resilienceAlert',
		typeVersion: 1,
		position: [0, 0],
		parameters: {},
	};
	const context = {
		getNode: () => node,
		helpers: {},
		getNodeParameter: (name: string, fallback?: unknown) =>
			name in options.parameters ? options.parameters[name] : fallback,
		getWorkflowStaticData: () => options.staticData,
		getInstanceBaseUrl: () => 'http://n8n.example.test/',
		getCredentials: async (type: string) => {
			const credential = options.credentials?.[type];
			if (!credential) throw new Error(`no credentials of type "${type}"`);
			return credential;
		},
	};
	return context as unknown as IPollFunctions;
}
