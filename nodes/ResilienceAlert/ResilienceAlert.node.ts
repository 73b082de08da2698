import type {
	IDataObject,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IPollFunctions,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { evaluateAlerts } from '../../lib/alerts/evaluateAlerts';
import type { AlertEvent, OpenIncidents } from '../../lib/alerts/evaluateAlerts';
import { spendOf } from '../../lib/alerts/spend';
import { openStateStore } from '../shared/stateStores';
import {
	REDIS_CREDENTIAL_TESTS,
	redisCredentialSlots,
	stateStoreOption,
} from '../shared/stateStoreParameters';
import { readForAlerts } from './alertReads';
import type { AlertReads } from './alertReads';

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
			'Fires when fallbacks or escalations of Resilient LLM rise, or a circuit breaker opens, and again on recovery; and when a spend budget reaches 80 % or 100 %',
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
			{
				displayName: 'Alert on Spend Budgets',
				name: 'alertOnBudget',
				type: 'boolean',
				default: true,
				description:
					'Whether to fire once when a Resilient LLM spend budget reaches 80 % of its limit in its period, and once when it reaches 100 %',
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
		let reads: AlertReads;
		try {
			const store = await openStateStore(
				this,
				this.getNodeParameter('stateStore', 'embedded') === 'redis' ? 'redis' : 'embedded',
			);
			const alertOnBudget = Boolean(this.getNodeParameter('alertOnBudget', true));
			reads = await readForAlerts(this, store, { from, to }, alertOnBudget);
		} catch (error) {
			throw new NodeOperationError(
				this.getNode(),
				`The state store is unavailable: ${(error as Error).message}`,
			);
		}
		const staticData = this.getWorkflowStaticData('node');
		const { events, open } = evaluateAlerts(
			reads.counters,
			reads.circuits,
			thresholds,
			(staticData.openIncidents ?? {}) as OpenIncidents,
		);
		staticData.openIncidents = open;
		if (events.length === 0 && reads.budgets.length === 0) return null;
		const window = {
			minutes: windowMinutes,
			from: new Date(from).toISOString(),
			to: new Date(to).toISOString(),
		};
		// A link to the workflow, for the Slack message; a breaker's subject is its circuit instead.
		const editor = this.getInstanceBaseUrl().replace(/\/+$/, '');
		return [itemsOf(events, reads, window, editor)];
	}
}

/** The alert items: incidents and recoveries with their window, then budget thresholds. */
function itemsOf(
	events: AlertEvent[],
	reads: AlertReads,
	window: IDataObject,
	editor: string,
): INodeExecutionData[] {
	const workflow = (id: string) => ({
		workflowId: id,
		workflowUrl: `${editor}/workflow/${id}`,
		spend: spendOf(reads.today.get(id)),
	});
	return [
		...events.map((event) => ({
			json: {
				...event,
				...(event.kind === 'breaker_open' ? {} : workflow(event.subject)),
				window,
			} as unknown as IDataObject,
		})),
		...reads.budgets.map((event) => ({
			json: {
				...event,
				...(event.workflowId ? workflow(event.workflowId) : {}),
			} as unknown as IDataObject,
		})),
	];
}
