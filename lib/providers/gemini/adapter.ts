import { GoogleGenAI } from '@google/genai';
import type { Content, FunctionDeclaration, GenerateContentParameters, Part } from '@google/genai';

import { systemText } from '../messageMapping';
import { fetchWithoutRedirects } from '../fetchWithoutRedirects';
import type {
	AdapterSettings,
	CallOptions,
	ChatMessage,
	CompletionRequest,
	CompletionResponse,
	ProviderAdapter,
	StreamEvent,
	ToolDefinition,
} from '../types';
import { answerEnd, partText, partToolCall, readGeminiStream } from './response';

/**
 * Gemini 3 wants back the signature of the thinking behind each function call; calls made by
 * another provider (or kept without it) carry Google's documented placeholder instead.
 */
const FOREIGN_THOUGHT_SIGNATURE = 'skip_thought_signature_validator';

/**
 * Gemini's turns: "model" turns with functionCall parts, answered by functionResponse parts
 * of the user turn after (results of parallel calls share that turn). Results are objects.
 */
export function toGeminiContents(messages: ChatMessage[]): Content[] {
	const contents: Content[] = [];
	let responses: Part[] | undefined;
	for (const message of messages) {
		if (message.role === 'tool') {
			const part: Part = {
				functionResponse: {
					id: message.toolCallId,
					name: message.name,
					response: { output: message.content },
				},
			};
			if (responses) responses.push(part);
			else {
				responses = [part];
				contents.push({ role: 'user', parts: responses });
			}
			continue;
		}
		responses = undefined;
		if (message.role === 'user') {
			const images: Part[] = (message.images ?? []).map((image) => ({
				inlineData: { mimeType: image.mediaType, data: image.data },
			}));
			const parts: Part[] =
				message.content || images.length === 0 ? [{ text: message.content }] : [];
			contents.push({ role: 'user', parts: [...parts, ...images] });
		} else if (message.role === 'assistant') {
			const parts: Part[] = message.content ? [{ text: message.content }] : [];
			for (const call of message.toolCalls ?? []) {
				parts.push({
					functionCall: { id: call.id, name: call.name, args: call.arguments },
					thoughtSignature: FOREIGN_THOUGHT_SIGNATURE,
				});
			}
			if (parts.length > 0) contents.push({ role: 'model', parts });
		}
	}
	return contents;
}

export function toGeminiTools(tools: ToolDefinition[]): FunctionDeclaration[] {
	// parametersJsonSchema takes JSON Schema as it is; `parameters` is an OpenAPI subset.
	return tools.map((tool) => ({
		name: tool.name,
		...(tool.description ? { description: tool.description } : {}),
		parametersJsonSchema: tool.parameters,
	}));
}

/** Google Gemini through @google/genai (the older @google/generative-ai reached end of life on 2025-08-31). */
export class GeminiAdapter implements ProviderAdapter {
	readonly provider = 'gemini' as const;
	private readonly client: GoogleGenAI;

	constructor(settings: AdapterSettings) {
		this.client = new GoogleGenAI({
			apiKey: settings.apiKey,
			httpOptions: {
				...(settings.baseUrl ? { baseUrl: settings.baseUrl } : {}),
				timeout: settings.timeoutMs,
				fetch: fetchWithoutRedirects,
			},
		});
	}

	/** The request both calls send, streamed or not. */
	private params(request: CompletionRequest, options: CallOptions) {
		const system = systemText(request.messages);
		const tools = request.tools ?? [];
		return {
			model: request.model,
			contents: toGeminiContents(request.messages),
			config: {
				abortSignal: options.signal,
				maxOutputTokens: request.maxOutputTokens,
				...(system ? { systemInstruction: system } : {}),
				...(tools.length > 0 ? { tools: [{ functionDeclarations: toGeminiTools(tools) }] } : {}),
				...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
				...(request.json ? { responseMimeType: 'application/json' } : {}),
				httpOptions: { timeout: options.timeoutMs },
			},
		} satisfies GenerateContentParameters;
	}

	async complete(request: CompletionRequest, options: CallOptions): Promise<CompletionResponse> {
		const response = await this.client.models.generateContent(this.params(request, options));
		const candidate = response.candidates?.[0];
		const parts = candidate?.content?.parts ?? [];
		const toolCalls = parts.flatMap((part) => partToolCall(part) ?? []);
		return {
			text: parts.map(partText).join(''),
			...(toolCalls.length > 0 ? { toolCalls } : {}),
			...answerEnd(
				{
					finishReason: candidate?.finishReason,
					blockReason: response.promptFeedback?.blockReason,
					hasCandidate: candidate !== undefined,
					usage: response.usageMetadata,
					responseId: response.responseId,
					modelVersion: response.modelVersion,
				},
				request.model,
			),
		};
	}

	async *stream(request: CompletionRequest, options: CallOptions): AsyncGenerator<StreamEvent> {
		const params = this.params(request, options);
		const chunks = await this.client.models.generateContentStream({
			...params,
			// The SDK would otherwise send the request again itself when a stream breaks.
			config: { ...params.config, automaticContinuation: false },
		});
		yield* readGeminiStream(chunks, { model: request.model, signal: options.signal });
	}
}
