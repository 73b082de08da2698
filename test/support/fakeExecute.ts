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

/** A chunk the node sent to a streaming caller, as n8n's sendChunk takes it. */
export interface SentChunk {
	type: string;
	itemIndex: number;
	content?: string;
}

export interface FakeRun {
	context: IExecuteFunctions;
	logs: Array<{ level: string; message: string; meta?: unknown }>;
	/** What the node streamed, in order (only when the execution streams). */
	chunks: SentChunk[];
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
	/** The workflow's time zone, as n8n's getTimezone() gives it (UTC unless said). */
	timeZone?: string;
	/** The execution streams to its caller (a Webhook in Streaming mode): isStreaming() is true. */
	streaming?: boolean;
	/** Told of each chunk as the node sends it. */
	onChunk?: (chunk: SentChunk) => void;
}): FakeRun {
	const logs: FakeRun['logs'] = [];
	const chunks: SentChunk[] = [];
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
		getTimezone: () => options.timeZone ?? 'UTC',
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
		isStreaming: () => options.streaming ?? false,
		// As in n8n: async, and written to the response at once.
		sendChunk: async (type: string, itemIndex: number, content?: string) => {
			const chunk = { type, itemIndex, ...(content !== undefined ? { content } : {}) };
			chunks.push(chunk);
			options.onChunk?.(chunk);
		},
	};
	return { context: context as unknown as IExecuteFunctions, logs, chunks };
}

/** A stand-in for n8n's IPollFunctions: parameters, and static data that lasts between polls. */
export function fakePoll(options: {
	parameters: Record<string, unknown>;
	staticData: IDataObject;
	credentials?: Record<string, ICredentialDataDecryptedObject>;
	/** 'trigger' as an active workflow polls; 'manual' as the editor's Fetch Test Event. */
	mode?: 'trigger' | 'manual';
	timeZone?: string;
	/** The trigger's node ID: two triggers each announce a budget's thresholds. */
	nodeId?: string;
}): IPollFunctions {
	const node: INode = {
		id: options.nodeId ?? 'alert-1',
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
		getWorkflow: () => ({ id: 'wf-alerts', name: 'Alerts', active: true }),
		getMode: () => options.mode ?? 'trigger',
		getTimezone: () => options.timeZone ?? 'UTC',
		getCredentials: async (type: string) => {
			const credential = options.credentials?.[type];
			if (!credential) throw new Error(`no credentials of type "${type}"`);
			return credential;
		},
	};
	return context as unknown as IPollFunctions;
}
