/**
 * A streamed run's answer so far, across its tries: the text the reader has that the answer
 * keeps, and the requests that continue it after a stream broke. A try that failed after it
 * had sent text leaves that text as the start of the answer, and the next try (a retry or the
 * next tier) is asked to continue it, so the reader gets one answer with nothing repeated.
 */
import { continuationMessages } from '../providers/messageMapping';
import type { CompletionRequest } from '../providers/types';
import type { AttemptOutcome } from './attempt';
import type { PreparedTier } from './preparedTier';
import type { TextSink } from './streamedAttempt';
import type { ErrorClass, TaskResult } from './types';

/**
 * Failures whose text is not the start of an answer: a refusal (or a blocked answer) is not
 * continued. The reader keeps what it was sent, and the next try answers afresh after it.
 */
const NOT_CONTINUED: ReadonlySet<ErrorClass> = new Set<ErrorClass>(['refused']);

export class StreamedText {
	/** Text sent to the reader that the answer starts with. */
	private kept = '';
	private continued: TaskResult['continuedFrom'];
	/** When the reader got its first text, in ms from the task's start. */
	private firstTextMs: number | undefined;
	private readonly onText: (delta: string) => void;
	/**
	 * The next try continues a prefill that lost its trailing whitespace (Anthropic refuses a
	 * final assistant message ending in it): the model sends that whitespace again, and the
	 * reader already has it.
	 */
	private dropLeadingSpace = false;

	constructor(
		onText: (delta: string) => void,
		/** Off for JSON output: only the checked whole answer is sent. */
		private readonly forward: boolean,
		/** Ms since the task started. */
		elapsed: () => number,
	) {
		this.onText = (delta) => {
			this.firstTextMs ??= Math.round(elapsed());
			onText(delta);
		};
	}

	/** Where one try's text goes; `accepted` tells the breaker's gate the provider is up. */
	sink(accepted: () => void): TextSink {
		if (!this.dropLeadingSpace) return { onText: this.onText, forward: this.forward, accepted };
		let dropping = true;
		const onText = (delta: string) => {
			const text = dropping ? delta.replace(/^\s+/, '') : delta;
			if (text === '') return;
			dropping = false;
			this.onText(text);
		};
		return { onText, forward: this.forward, accepted };
	}

	/** The request of the next try: the task's own, or one that continues the text kept. */
	requestFor(request: CompletionRequest, tier: PreparedTier): CompletionRequest {
		this.dropLeadingSpace = tier.prefill && /\s$/.test(this.kept);
		if (this.kept === '') return request;
		return {
			...request,
			messages: continuationMessages(request.messages, this.kept, tier.prefill),
		};
	}

	/** A failed try: the text it sent becomes the start of the answer, unless it is not one. */
	failed(tier: PreparedTier, outcome: AttemptOutcome): void {
		const sent = outcome.sentText ?? '';
		const errorClass = outcome.failure?.errorClass;
		if (sent === '' || (errorClass && NOT_CONTINUED.has(errorClass))) return;
		this.kept += sent;
		this.continued = { tier: tier.index + 1, chars: this.kept.length };
	}

	/** The whole answer's text, where it was continued from and when the reader got its start. */
	answer(text: string | undefined): Pick<TaskResult, 'text' | 'continuedFrom' | 'firstTokenMs'> {
		const first = this.firstTextMs !== undefined ? { firstTokenMs: this.firstTextMs } : {};
		if (!this.continued) return { text, ...first };
		const rest = this.dropLeadingSpace ? (text ?? '').replace(/^\s+/, '') : (text ?? '');
		return { text: this.kept + rest, continuedFrom: this.continued, ...first };
	}
}
