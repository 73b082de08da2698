import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
	IWebhookFunctions,
	IWebhookResponseData,
} from 'n8n-workflow';
import { NodeConnectionTypes } from 'n8n-workflow';

import { REDIS_CREDENTIAL_TESTS, redisCredentialSlots } from '../shared/stateStoreParameters';
import { properties } from './description';
import { answerReviewRequest } from './reviewRequest';
import { waitForReview } from './waitForReview';

// These are resume webhooks of a waiting execution, as in n8n's Wait node: nothing is
// registered on a remote service, so there is no create/check/delete lifecycle.
// eslint-disable-next-line @n8n/community-nodes/webhook-lifecycle-complete
export class HumanReview implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Human Review',
		name: 'humanReview',
		icon: { light: 'file:humanReview.svg', dark: 'file:humanReview.dark.svg' },
		group: ['transform'],
		// Listed as versions so that a change saved workflows cannot take ships as version 2.
		version: [1],
		defaultVersion: 1,
		subtitle:
			'={{ $parameter["limitWaitTime"] ? "wait up to " + $parameter["timeLimit"] + " " + $parameter["timeLimitUnit"] : "wait for a decision" }}',
		description:
			'Pause the workflow until a person approves, edits or rejects, through a review page',
		defaults: { name: 'Human Review' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		// n8n resumes a wait that times out by sending the original items to output 0 without
		// calling the node, so output 0 is Timed Out: a timeout can never read as an approval.
		outputs: [NodeConnectionTypes.Main, NodeConnectionTypes.Main, NodeConnectionTypes.Main],
		outputNames: ['Timed Out', 'Approved', 'Rejected'],
		// Shown on the waiting node in the editor: the review link, to open the review page there.
		// The editor resolves this with the node's parameters and $execution only: the review's
		// token lives in the Review Link node's output, so the tooltip points there.
		waitingNodeTooltip:
			"Waiting for a decision. The review page's link, with its token, is the reviewLink field in the Review Link node's output.",
		webhooks: [
			{
				name: 'default',
				httpMethod: 'GET',
				responseMode: 'onReceived',
				path: '',
				restartWebhook: true,
				isFullPath: true,
			},
			{
				name: 'default',
				httpMethod: 'POST',
				responseMode: 'onReceived',
				path: '',
				restartWebhook: true,
				isFullPath: true,
			},
		],
		credentials: redisCredentialSlots('/options.stateStore'),
		properties,
	};

	methods = { credentialTest: REDIS_CREDENTIAL_TESTS };

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		return await waitForReview(this);
	}

	async webhook(this: IWebhookFunctions): Promise<IWebhookResponseData> {
		return await answerReviewRequest(this);
	}
}
