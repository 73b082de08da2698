/**
 * Resilient LLM's two outputs, filled item by item in any order and handed to n8n in input
 * order: Answered (and items that failed, when On Error continues) and Needs Human.
 */
import type { IDataObject, INodeExecutionData, NodeOperationError } from 'n8n-workflow';

import type { Task, TaskResult } from '../../lib/engine/types';

export class ItemOutputs {
	private readonly answered: Array<INodeExecutionData | undefined>;
	private readonly needsHuman: Array<INodeExecutionData | undefined>;

	constructor(private readonly inputs: INodeExecutionData[]) {
		this.answered = new Array(inputs.length);
		this.needsHuman = new Array(inputs.length);
	}

	/** n8n moves items carrying an error to the Error output when one is configured. */
	failed(index: number, error: NodeOperationError): void {
		this.answered[index] = { json: { error: error.message }, error, pairedItem: { item: index } };
	}

	/** The item as it came in, with what the chain gave and how. */
	finished(index: number, task: Task, result: TaskResult, resilience: IDataObject): void {
		const input = this.inputs[index].json;
		if (result.outcome === 'answered') {
			this.answered[index] = {
				json: {
					...input,
					text: result.text ?? '',
					...(result.json !== undefined ? { output: result.json as IDataObject } : {}),
					resilience,
				},
				pairedItem: { item: index },
			};
		} else {
			this.toPerson(index, task, result.reasonText, resilience);
		}
	}

	/** An item that did not finish goes to a person, with why. */
	unfinished(index: number, task: Task, reason: string): void {
		if (!this.answered[index] && !this.needsHuman[index]) this.toPerson(index, task, reason);
	}

	lists(): INodeExecutionData[][] {
		return [
			this.answered.filter((i) => i !== undefined),
			this.needsHuman.filter((i) => i !== undefined),
		];
	}

	private toPerson(index: number, task: Task, reason: string, resilience?: IDataObject): void {
		this.needsHuman[index] = {
			json: {
				...this.inputs[index].json,
				prompt: task.prompt,
				...(task.systemPrompt ? { systemPrompt: task.systemPrompt } : {}),
				reason,
				...(resilience ? { resilience } : {}),
			},
			pairedItem: { item: index },
		};
	}
}
