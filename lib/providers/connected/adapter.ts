/**
 * A tier whose model is a chat model another n8n node supplies (n8n's OpenAI Chat Model,
 * Mistral Cloud Chat Model, AWS Bedrock Chat Model...): one call of the chain is one call of
 * that model, with its own retries off. Whatever it throws is wrapped once, with the provider
 * family its node belongs to, for classifyError to read.
 */
import type {
	CallOptions,
	CompletionRequest,
	CompletionResponse,
	FinishReason,
	ProviderAdapter,
	StreamEvent,
	ToolCall,
	BuiltInProviderName,
} from '../types';
import type { LangChainChatModel, LangChainMessage, LangChainRunnable } from './langChainModel';
import { functionTools } from '../messageMapping';
import { langChainMessages } from './messages';

/** A connected model's failure: what it threw (`cause`), and the wire it came from if known. */
export class ConnectedModelError extends Error {
	constructor(
		readonly cause: unknown,
		readonly family: BuiltInProviderName | undefined,
	) {
		super(cause instanceof Error ? cause.message : String(cause));
		this.name = 'ConnectedModelError';
	}
}

function textOf(message: LangChainMessage): string {
	if (typeof message.text === 'string') return message.text;
	if (typeof message.content === 'string') return message.content;
	if (!Array.isArray(message.content)) return '';
	return message.content
		.map((part: unknown) =>
			typeof part === 'string'
				? part
				: part && typeof part === 'object' && (part as { type?: unknown }).type === 'text'
					? String((part as { text?: unknown }).text ?? '')
					: '',
		)
		.join('');
}

/** Each provider's word for why it stopped, as LangChain passes it on. */
function finishOf(metadata: Record<string, unknown> | undefined): FinishReason {
	const reason = String(
		metadata?.finish_reason ??
			metadata?.stop_reason ??
			metadata?.finishReason ??
			metadata?.done_reason ??
			metadata?.stopReason ??
			'',
	).toLowerCase();
	if (['length', 'max_tokens', 'max_output_tokens'].includes(reason)) return 'length';
	if (['content_filter', 'safety', 'blocklist', 'prohibited_content'].includes(reason))
		return 'content_filter';
	if (reason === 'refusal') return 'refusal';
	return 'stop';
}

function toolCallsOf(message: LangChainMessage): ToolCall[] | undefined {
	const calls = (message.tool_calls ?? []).map((call, i) => ({
		id: call.id || `call_${i}`,
		name: call.name,
		arguments: call.args ?? {},
	}));
	return calls.length ? calls : undefined;
}

function requestIdOf(message: LangChainMessage): string | undefined {
	const metadata = message.response_metadata ?? {};
	for (const value of [metadata.id, metadata.request_id, message.id]) {
		if (typeof value === 'string' && value) return value;
	}
	return undefined;
}

export function responseOf(message: LangChainMessage, model: string): CompletionResponse {
	const metadata = message.response_metadata;
	const answered = metadata?.model_name ?? metadata?.model;
	return {
		text: textOf(message),
		toolCalls: toolCallsOf(message),
		finish: finishOf(metadata),
		usage: {
			inputTokens: message.usage_metadata?.input_tokens ?? 0,
			outputTokens: message.usage_metadata?.output_tokens ?? 0,
		},
		requestId: requestIdOf(message),
		model: typeof answered === 'string' && answered ? answered : model,
	};
}

export class ConnectedModelAdapter implements ProviderAdapter {
	readonly provider = 'connected';
	/** Bound once per set of tools: an agent sends the same tools on every turn. */
	private bound?: { key: string; runnable: LangChainRunnable };

	constructor(
		private readonly model: LangChainChatModel,
		/** The model's name, for answers that do not say. */
		private readonly modelId: string,
		private readonly family: BuiltInProviderName | undefined,
	) {}

	private runnableFor(request: CompletionRequest): LangChainRunnable {
		if (!request.tools?.length) return this.model;
		if (!this.model.bindTools)
			throw new Error('the connected model cannot call tools (it has no bindTools)');
		const key = JSON.stringify(request.tools);
		if (this.bound?.key !== key)
			this.bound = { key, runnable: this.model.bindTools(functionTools(request.tools)) };
		return this.bound.runnable;
	}

	async complete(request: CompletionRequest, options: CallOptions): Promise<CompletionResponse> {
		try {
			const runnable = this.runnableFor(request);
			const message = await runnable.invoke(langChainMessages(request.messages), {
				signal: options.signal,
			});
			return responseOf(message, this.modelId);
		} catch (error) {
			throw new ConnectedModelError(error, this.family);
		}
	}

	async *stream(request: CompletionRequest, options: CallOptions): AsyncIterable<StreamEvent> {
		// Our own signal: a reader that stops early aborts the call, and the stream is read to
		// its end, so the connected node's panel records the call as ended, not running.
		const controller = new AbortController();
		const forward = () => controller.abort(options.signal.reason);
		if (options.signal.aborted) forward();
		options.signal.addEventListener('abort', forward, { once: true });
		let iterator: AsyncIterator<LangChainMessage> | undefined;
		let finished = false;
		try {
			const runnable = this.runnableFor(request);
			if (!runnable.stream) {
				const whole = await runnable.invoke(langChainMessages(request.messages), {
					signal: controller.signal,
				});
				const response = responseOf(whole, this.modelId);
				if (response.text) yield { type: 'text', text: response.text };
				for (const call of response.toolCalls ?? []) yield { type: 'tool_call', call };
				finished = true;
				yield { type: 'done', response };
				return;
			}
			const stream = await runnable.stream(langChainMessages(request.messages), {
				signal: controller.signal,
			});
			iterator = stream[Symbol.asyncIterator]();
			let joined: LangChainMessage | undefined;
			for (;;) {
				const next = await iterator.next();
				if (next.done) break;
				const chunk = next.value;
				joined = joined?.concat ? joined.concat(chunk) : chunk;
				const text = textOf(chunk);
				if (text) yield { type: 'text', text };
			}
			finished = true;
			const response = responseOf(joined ?? { content: '' }, this.modelId);
			for (const call of response.toolCalls ?? []) yield { type: 'tool_call', call };
			yield { type: 'done', response };
		} catch (error) {
			finished = true;
			throw new ConnectedModelError(error, this.family);
		} finally {
			options.signal.removeEventListener('abort', forward);
			if (!finished && iterator) {
				controller.abort(new Error('the reader stopped reading'));
				await drain(iterator);
			}
		}
	}
}

/** Reads an aborted stream to its end (it throws soon after the abort), bounded. */
async function drain(iterator: AsyncIterator<unknown>): Promise<void> {
	const deadline = Date.now() + 5_000;
	try {
		while (Date.now() < deadline) if ((await iterator.next()).done) return;
	} catch {
		// The abort surfacing: the call is over.
	}
}
