/**
 * An item's answer streamed to the caller when the execution streams (a Webhook whose
 * Response Mode is Streaming): 'begin', the text as it arrives, then 'end', per item, each
 * chunk naming its item. A JSON answer goes once, whole, after it was checked.
 */
import type { IExecuteFunctions } from 'n8n-workflow';

import type { TaskResult } from '../../lib/engine/types';

export interface ItemStream {
	/** The answer's text as it arrives. */
	onText(delta: string): void;
	/** The item is done: an answer the caller has not had yet (a stored one) goes whole first. */
	end(result?: TaskResult): void;
}

/** The item's stream, or undefined when the execution does not stream. */
export function itemStreamOf(ctx: IExecuteFunctions, itemIndex: number): ItemStream | undefined {
	if (!ctx.isStreaming?.()) return undefined;
	const send = (type: 'begin' | 'item' | 'end', text?: string) => {
		// n8n writes each chunk to the response at once, in order; a caller gone is no item's failure.
		void Promise.resolve(ctx.sendChunk(type, itemIndex, text)).catch(() => undefined);
	};
	let sent = false;
	send('begin');
	return {
		onText(delta) {
			sent = true;
			send('item', delta);
		},
		end(result) {
			if (!sent && result?.outcome === 'answered' && result.text) send('item', result.text);
			send('end');
		},
	};
}
