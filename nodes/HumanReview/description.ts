import type { INodeProperties } from 'n8n-workflow';

import { stateStoreOption } from '../shared/stateStoreParameters';

/**
 * The expression operators paste into the Slack, email or Jira node that tells the reviewer:
 * that node comes right after the Human Review Link node, whose items carry the link.
 */
export const REVIEW_LINK_EXPRESSION = '{{ $json.reviewLink }}';

/** Where the Human Review finds the link that was sent, by default. */
export const DEFAULT_REVIEW_LINK = "={{ $('Review Link').first().json.reviewLink }}";

export const properties: INodeProperties[] = [
	{
		displayName: `Put a Human Review Link node before the Slack, Send Email or Jira node that tells the reviewer, send its link there (${REVIEW_LINK_EXPRESSION}), and name that Human Review Link node under Review Link below. The link carries a secret of its own: paste it whole.`,
		name: 'linkNotice',
		type: 'notice',
		default: '',
	},
	{
		displayName: 'Review Link',
		name: 'reviewLink',
		type: 'string',
		default: DEFAULT_REVIEW_LINK,
		required: true,
		description:
			'The link the reviewer was sent, from the Human Review Link node before this one. Decisions are accepted only through this link, so each Human Review needs a Human Review Link node of its own.',
	},
	{
		displayName: 'Title',
		name: 'title',
		type: 'string',
		default: 'Review needed',
		placeholder: 'e.g. Refund {{ $json.refundId }}',
		description: 'Headline of the review page, per item. Expressions welcome.',
	},
	{
		displayName: 'Task Details',
		name: 'details',
		type: 'string',
		typeOptions: { rows: 4 },
		default: '',
		description: "What the reviewer needs to know, e.g. the customer's request",
	},
	{
		displayName: 'Prompt',
		name: 'prompt',
		type: 'string',
		typeOptions: { rows: 3 },
		default: '={{ $json.prompt ?? "" }}',
		description: 'The prompt the model was given. The default reads it from a Resilient LLM item.',
	},
	{
		displayName: 'Draft Answer',
		name: 'draftAnswer',
		type: 'string',
		typeOptions: { rows: 4 },
		default: '={{ $json.output ? JSON.stringify($json.output, null, 2) : ($json.text ?? "") }}',
		description: 'The answer to approve or edit, if a model gave one',
	},
	{
		displayName: 'Reason',
		name: 'reason',
		type: 'string',
		default: '={{ $json.reason ?? "" }}',
		description:
			'Why this needs a person. The default reads it from a Resilient LLM Needs Human item.',
	},
	{
		displayName: 'Limit Wait Time',
		name: 'limitWaitTime',
		type: 'boolean',
		default: false,
		description:
			'Whether to stop waiting after a while. Timed-out items leave on the Timed Out output, never on Approved.',
	},
	{
		displayName: 'Time Limit',
		name: 'timeLimit',
		type: 'number',
		typeOptions: { minValue: 1 },
		default: 24,
		displayOptions: { show: { limitWaitTime: [true] } },
	},
	{
		displayName: 'Unit',
		name: 'timeLimitUnit',
		type: 'options',
		options: [
			{ name: 'Seconds', value: 'seconds' },
			{ name: 'Minutes', value: 'minutes' },
			{ name: 'Hours', value: 'hours' },
			{ name: 'Days', value: 'days' },
		],
		default: 'hours',
		displayOptions: { show: { limitWaitTime: [true] } },
		description:
			'Waiting executions are checked once a minute, so a limit may end up to a minute late',
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Allow Editing the Answer',
				name: 'allowEdit',
				type: 'boolean',
				default: true,
				description: 'Whether the reviewer may change the answer before approving',
			},
			{
				displayName: 'Allowed Reviewer Emails',
				name: 'allowedEmails',
				type: 'string',
				default: '',
				placeholder: 'e.g. ana@example.com, ops-lead@example.com',
				description:
					'Comma-separated. When set, the page asks for an email and accepts only these. Typed, not verified: combine with a password.',
			},
			{
				displayName: 'Required Fields',
				name: 'requiredFields',
				type: 'multiOptions',
				options: [
					{ name: 'Comment', value: 'comment' },
					{ name: 'Comment When Rejecting', value: 'commentOnReject' },
					{ name: 'Reviewer Email', value: 'email' },
					{ name: 'Reviewer Name', value: 'name' },
				],
				default: ['commentOnReject'],
			},
			{
				displayName: 'Reviewer Password',
				name: 'password',
				type: 'string',
				typeOptions: { password: true },
				default: '',
				description: 'A shared password the page asks for before it accepts a decision',
			},
			stateStoreOption({
				description:
					'Where the first decision on each review is recorded, so that a second one is refused whichever n8n process receives it',
				redisDescription:
					'Shared by every n8n process that serves review links: queue mode with webhook processes. Select a Resilient LLM: Redis credential.',
			}),
		],
	},
];
