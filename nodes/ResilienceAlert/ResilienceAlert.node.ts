import type {
	IDataObject,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IPollFunctions,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { evaluateAlerts } from '../../lib/alerts/evaluateAlerts';
import type { OpenIncidents } from '../../lib/alerts/evaluateAlerts';
import { flushCounters } from '../shared/alertCounters';
import { openStateStore } from '../shared/stateStores';
import {
	REDIS_CREDENTIAL_TESTS,
	redisCredentialSlots,
	stateStoreOption,
} from '../shared/stateStoreParameters';

export class ResilienceAlert implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Resilience Alert',
		name: 'resilienceAlert',
		icon: { light: 'file:resilienceAlert.svg', dark: 'file:resilienceAlert.dark.svg' },
		group: ['trigger'],
		// Listed as versions so that a change saved workflows cannot take ships as version 2.
		version: [1],
		defaultVersion: 1,
		subtitle: '={{ "over " + $parameter["windowMinutes"] + " min" }}',
		description:
			'Fires when fallbacks or escalations of Resilient LLM rise, or a circuit breaker opens; and again on recovery',
		defaults: { name: 'Resilience Alert' },
		polling: true,
		inputs: [],
		outputs: [NodeConnectionTypes.Main],
		credentials: redisCredentialSlots('stateStore'),
		properties: [
			{
				displayName:
					'Fires once when an incident starts and once when it ends, with the workflow, the rates per tier and the window: ready for a Slack node',
				name: 'notice',
				type: 'notice',
				default: '',
			},
			stateStoreOption({
				description: 'The store the Resilient LLM nodes use (their Options › State Store)',
			}),
			{
				displayName: 'Window (Minutes)',
				name: 'windowMinutes',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 1440 },
				default: 15,
			},
			{
				displayName: 'Fallback Rate Threshold (%)',
				name: 'fallbackPercent',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 100 },
				default: 20,
				description:
					"Alert when at least this share of a workflow's tasks was answered below tier 1",
			},
			{
				displayName: 'Escalation Rate Threshold (%)',
				name: 'escalationPercent',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 100 },
				default: 10,
				description: "Alert when at least this share of a workflow's tasks went to a person",
			},
			{
				displayName: 'Minimum Tasks',
				name: 'minTasks',
				type: 'number',
				typeOptions: { minValue: 1 },
				default: 5,
				description: 'A window with fewer tasks says nothing either way',
			},
			{
				displayName: 'Alert When a Circuit Breaker Opens',
				name: 'alertOnBreaker',
				type: 'boolean',
				default: true,
			},
		],
	};

	methods = { credentialTest: REDIS_CREDENTIAL_TESTS };

	async poll(this: IPollFunctions): Promise<INodeExecutionData[][] | null> {
		const windowMinutes = Number(this.getNodeParameter('windowMinutes', 15));
		const thresholds = {
			fallbackRate: Number(this.getNodeParameter('fallbackPercent', 20)) / 100,
			escalationRate: Number(this.getNodeParameter('escalationPercent', 10)) / 100,
			minTasks: Number(this.getNodeParameter('minTasks', 5)),
			alertOnBreaker: Boolean(this.getNodeParameter('alertOnBreaker', true)),
		};
		const to = Date.now();
		const from = to - windowMinutes * 60_000;
		let counters;
		let circuits;
		try {
			const store = await openStateStore(
				this,
				this.getNodeParameter('stateStore', 'embedded') === 'redis' ? 'redis' : 'embedded',
			);
			// Tasks counted in this process in the last second count too.
			await flushCounters();
			counters = await store.readCounters(from, to);
			// Only circuits still cooling down (or probing): one past its cool-down has recovered.
			circuits = await store.openCircuits(to);
		} catch (error) {
			throw new NodeOperationError(
				this.getNode(),
				`The state store is unavailable: ${(error as Error).message}`,
			);
		}
		const staticData = this.getWorkflowStaticData('node');
		const { events, open } = evaluateAlerts(
			counters,
			circuits,
			thresholds,
			(staticData.openIncidents ?? {}) as OpenIncidents,
		);
		staticData.openIncidents = open;
		if (events.length === 0) return null;
		const window = {
			minutes: windowMinutes,
			from: new Date(from).toISOString(),
			to: new Date(to).toISOString(),
		};
		// A link to the workflow, for the Slack message; a breaker's subject is its circuit instead.
		const editor = this.getInstanceBaseUrl().replace(/\/+$/, '');
		return [
			events.map((event) => ({
				json: {
					...event,
					...(event.kind === 'breaker_open'
						? {}
						: { workflowId: event.subject, workflowUrl: `${editor}/workflow/${event.subject}` }),
					window,
				} as unknown as IDataObject,
			})),
		];
	}
}
