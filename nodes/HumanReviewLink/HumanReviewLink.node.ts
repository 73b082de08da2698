import type {
	IExecuteFunctions,
	INodeExecutionData,
	INodeType,
	INodeTypeDescription,
} from 'n8n-workflow';
import { NodeConnectionTypes, NodeOperationError } from 'n8n-workflow';

import { newReviewToken, reviewLinkOf } from '../../lib/review/reviewToken';

/** The field each item gets: the link to send the reviewer. */
export const REVIEW_LINK_FIELD = 'reviewLink';

export class HumanReviewLink implements INodeType {
	description: INodeTypeDescription = {
		displayName: 'Human Review Link',
		name: 'humanReviewLink',
		icon: { light: 'file:humanReviewLink.svg', dark: 'file:humanReviewLink.dark.svg' },
		group: ['transform'],
		// Listed as versions so that a change saved workflows cannot take ships as version 2.
		version: [1],
		defaultVersion: 1,
		subtitle: 'a link for one review',
		description:
			'Make the link for the next Human Review, to send the reviewer from a Slack, email or Jira node',
		defaults: { name: 'Review Link' },
		usableAsTool: true,
		inputs: [NodeConnectionTypes.Main],
		outputs: [NodeConnectionTypes.Main],
		properties: [
			{
				displayName: `Adds ${REVIEW_LINK_FIELD} to each item: the link to one review, with a secret of its own. Send it from the next node ({{ $json.${REVIEW_LINK_FIELD} }}), then let the Human Review after it read it. Use one of these nodes for each Human Review.`,
				name: 'linkNotice',
				type: 'notice',
				default: '',
			},
		],
	};

	async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
		const items = this.getInputData();
		const resumeUrl = String(this.evaluateExpression('{{ $execution.resumeUrl }}', 0) ?? '');
		let link: string;
		try {
			// One token per run: the items that arrive together are reviewed on one page.
			link = reviewLinkOf(resumeUrl, newReviewToken());
		} catch {
			throw new NodeOperationError(this.getNode(), 'n8n gave no resume link for this execution', {
				description: `Got ${JSON.stringify(resumeUrl)}. Check that n8n's webhook URL (WEBHOOK_URL) is set.`,
			});
		}
		return [
			items.map((item, index) => ({
				...item,
				json: { ...item.json, [REVIEW_LINK_FIELD]: link },
				pairedItem: { item: index },
			})),
		];
	}
}
