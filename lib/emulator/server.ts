/**
 * One HTTP server that speaks the Anthropic, OpenAI, Gemini and Ollama wire formats, with
 * faults scripted per provider and model. The test bed for the engine and the nodes, and a
 * way for operators to rehearse an outage before it happens.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import { PROVIDERS } from '../providers/registry';
import { ScenarioError, ScenarioState, parseScenario } from './scenario';
import type { ConversationShape, Rule, Scenario } from './scenario';
import { HTTP_FAULTS, errorResponse, successResponse } from './wire';
import type { Finish, HttpFault, WireProvider, WireResponse, WireToolCall } from './wire';

const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Model calls kept for inspection; older ones are dropped. */
const MAX_RECEIVED = 200;

export interface EmulatorOptions {
	port?: number;
	/** Loopback unless told otherwise. */
	host?: string;
	scenario?: Scenario;
	random?: () => number;
}

/** What one prompt got: requests received, and successful answers sent in full. */
export interface PromptCount {
	calls: number;
	answered: number;
}

export interface EmulatorStats {
	total: number;
	/** Requests seen per `provider/model`, faults included. */
	requests: Record<string, number>;
	/** The most model calls that were open at once since the last reset. */
	maxInFlight: number;
	/** Normal answers sent in full per `provider/model`: what a client may not lose. */
	answers: Record<string, number>;
}

/** Base URLs to give each provider's SDK or credential. */
export interface ProviderUrls {
	anthropic: string;
	openai: string;
	gemini: string;
	ollama: string;
}

/** One model call as the emulator received it, for tests and operators to inspect. */
export interface ReceivedCall {
	provider: WireProvider;
	model: string;
	path: string;
	/** The request body exactly as the client sent it. */
	body: Record<string, unknown>;
	/** Names of the tools the request offered. */
	tools: string[];
	/** Tool results the conversation carried. */
	toolResults: number;
	/** Model turns since the person's last message: the scripted turn it got. */
	turn: number;
}

interface ParsedCall {
	provider: WireProvider;
	model: string;
	promptText: string;
	wantsJson: boolean;
	apiKey: string;
	ollamaStream: boolean;
	conversation: ConversationRead;
}

/** What a request's conversation holds, read from its provider's wire shape. */
interface ConversationRead {
	shape: ConversationShape;
	tools: string[];
	/** Tool results, tool calls and tool definitions as text, so usage counts them like a provider would. */
	toolText: string;
	/** A mistake the real provider rejects with a 400, in its own words. */
	problem?: string;
}

const REFUSAL_TEXT = "I can't help with that request.";
const NOT_JSON_TEXT = 'Sure! Here is what you asked for, in plain words rather than JSON.';

export class ProviderEmulator {
	private server: Server | undefined;
	private state: ScenarioState;
	private readonly random: () => number;
	private counts = new Map<string, number>();
	private answerCounts = new Map<string, number>();
	private prompts = new Map<string, PromptCount>();
	private total = 0;
	private inFlight = 0;
	private maxInFlight = 0;
	private sequence = 0;
	private url = '';
	private log: ReceivedCall[] = [];

	constructor(private readonly options: EmulatorOptions = {}) {
		this.random = options.random ?? Math.random;
		this.state = new ScenarioState(parseScenario(options.scenario ?? {}), this.random);
	}

	get baseUrl(): string {
		return this.url;
	}

	/** Each SDK's idea of a base URL: OpenAI's includes /v1, the others add their own paths. */
	get urls(): ProviderUrls {
		return { anthropic: this.url, openai: `${this.url}/v1`, gemini: this.url, ollama: this.url };
	}

	async start(): Promise<string> {
		const server = createServer((req, res) => {
			this.handle(req, res).catch((error: unknown) => {
				if (!res.headersSent)
					send(res, { status: 500, headers: {}, body: { error: String(error) } });
			});
		});
		server.keepAliveTimeout = 30_000;
		this.server = server;
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => {
				server.off('error', reject);
				resolve();
			});
		});
		const address = server.address() as AddressInfo;
		const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
		this.url = `http://${host}:${address.port}`;
		return this.url;
	}

	async stop(): Promise<void> {
		const server = this.server;
		if (!server) return;
		this.server = undefined;
		// Hung requests and keep-alive sockets would hold close() open forever.
		server.closeAllConnections();
		await new Promise<void>((resolve) => server.close(() => resolve()));
	}

	loadScenario(scenario: unknown): void {
		this.state = new ScenarioState(parseScenario(scenario), this.random);
	}

	addRules(rules: Rule[]): void {
		parseScenario({ rules });
		this.state.addRules(rules);
	}

	stats(): EmulatorStats {
		return {
			total: this.total,
			requests: Object.fromEntries(this.counts),
			maxInFlight: this.maxInFlight,
			answers: Object.fromEntries(this.answerCounts),
		};
	}

	/** Normal answers sent in full, for one provider or one provider and model. */
	answers(provider?: WireProvider, model?: string): number {
		let sum = 0;
		for (const [key, value] of this.answerCounts) {
			if (provider === undefined) sum += value;
			else if (
				model !== undefined ? key === `${provider}/${model}` : key.startsWith(`${provider}/`)
			)
				sum += value;
		}
		return sum;
	}

	/** Requests seen for one provider, or one provider and model. */
	count(provider: WireProvider, model?: string): number {
		if (model !== undefined) return this.counts.get(`${provider}/${model}`) ?? 0;
		let sum = 0;
		for (const [key, value] of this.counts) if (key.startsWith(`${provider}/`)) sum += value;
		return sum;
	}

	/** The model calls received since the last reset (the latest 200), oldest first; one provider's if named. */
	received(provider?: WireProvider): ReceivedCall[] {
		return provider ? this.log.filter((c) => c.provider === provider) : [...this.log];
	}

	/**
	 * Requests and full answers per prompt text, so a test can tell which items were called
	 * again (the prompt is the last user message, or all of them joined).
	 */
	promptCounts(): Map<string, PromptCount> {
		return new Map([...this.prompts].map(([prompt, count]) => [prompt, { ...count }]));
	}

	resetCounts(): void {
		this.log = [];
		this.counts.clear();
		this.answerCounts.clear();
		this.prompts.clear();
		this.total = 0;
		this.maxInFlight = this.inFlight;
	}

	private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const url = new URL(req.url ?? '/', 'http://emulator');
		if (url.pathname.startsWith('/_emulator/')) return this.admin(req, res, url);
		if (req.method === 'GET') return this.listModels(req, res, url);
		if (req.method !== 'POST') {
			return send(res, {
				status: 404,
				headers: {},
				body: { error: `no route for ${req.method} ${url.pathname}` },
			});
		}
		const raw = await readBody(req);
		let body: Record<string, unknown>;
		try {
			body = JSON.parse(raw) as Record<string, unknown>;
		} catch {
			return send(res, { status: 400, headers: {}, body: { error: 'request body is not JSON' } });
		}
		const call = parseCall(url, req, body);
		if (!call) {
			return send(res, {
				status: 404,
				headers: {},
				body: { error: `no route for POST ${url.pathname}` },
			});
		}
		const key = `${call.provider}/${call.model}`;
		this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
		this.total++;
		this.log.push({
			provider: call.provider,
			model: call.model,
			path: url.pathname,
			body,
			tools: call.conversation.tools,
			toolResults: call.conversation.shape.toolResults,
			turn: call.conversation.shape.turn,
		});
		if (this.log.length > MAX_RECEIVED) this.log.shift();
		const promptCount = this.prompts.get(call.promptText) ?? { calls: 0, answered: 0 };
		promptCount.calls++;
		this.prompts.set(call.promptText, promptCount);
		// A call is open until its response ends or its connection closes (hangs, drops).
		this.inFlight++;
		this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
		res.once('close', () => this.inFlight--);
		const requestId = `req_emu${(++this.sequence).toString(36).padStart(6, '0')}`;

		const expectedKey = this.state.scenario.apiKeys?.[call.provider];
		if (expectedKey !== undefined && call.apiKey !== expectedKey) {
			return send(res, errorResponse(call.provider, 'auth', { model: call.model, requestId }));
		}

		if (call.conversation.problem !== undefined) {
			return send(
				res,
				errorResponse(call.provider, 'bad_request', {
					model: call.model,
					requestId,
					message: call.conversation.problem,
				}),
			);
		}

		const verdict = this.state.decide(
			call.provider,
			call.model,
			Date.now(),
			call.conversation.shape,
		);
		if (verdict.fault === 'hang') return; // never answer; the client's timeout must act
		if (verdict.latencyMs > 0) await delay(verdict.latencyMs);
		if (verdict.fault === 'drop') {
			req.socket.destroy();
			return;
		}
		if (verdict.fault === 'malformed') {
			res.writeHead(200, { 'content-type': 'application/json' });
			res.end('{"id": "msg_01", "content": [{"type": "te');
			return;
		}
		if (verdict.fault === 'proxy_html_502') {
			const page = PROXY_502_PAGE;
			res.writeHead(502, {
				'content-type': 'text/html',
				server: 'nginx',
				'content-length': Buffer.byteLength(page),
			});
			res.end(page);
			return;
		}
		if ((HTTP_FAULTS as readonly string[]).includes(verdict.fault)) {
			return send(
				res,
				errorResponse(call.provider, verdict.fault as HttpFault, {
					model: call.model,
					requestId,
					retryAfterS: verdict.retryAfterS,
				}),
			);
		}
		const transport = verdict.fault === 'drop_mid_body' || verdict.fault === 'slow_drip';
		const finish = (verdict.fault === 'ok' || transport ? 'stop' : verdict.fault) as Finish;
		// A scripted turn answers a normal call; an unusable answer (an output fault) is text only.
		const turn = finish === 'stop' ? verdict.turn : undefined;
		let text = turn ? (turn.reply ?? '') : (verdict.reply ?? this.defaultReply(call));
		if (finish === 'refused') text = REFUSAL_TEXT;
		if (finish === 'invalid_output') text = NOT_JSON_TEXT;
		if (finish === 'truncated') text = `${text.slice(0, Math.max(8, Math.floor(text.length / 2)))}`;
		const toolCalls: WireToolCall[] = (turn?.toolCalls ?? []).map((scripted, i) => ({
			id: `${call.provider === 'anthropic' ? 'toolu' : 'call'}_${requestId.slice(4)}_${i}`,
			name: scripted.name,
			arguments: scripted.arguments ?? {},
		}));
		const usage = {
			input: Math.ceil((call.promptText.length + call.conversation.toolText.length) / 4) + 3,
			output: Math.max(1, Math.ceil((text.length + JSON.stringify(toolCalls).length - 2) / 4)),
		};
		const response = successResponse(
			call.provider,
			call.model,
			text,
			finish,
			usage,
			requestId,
			toolCalls,
		);
		// A usable answer counts once its last byte is handed to the socket: one the client could read.
		if (verdict.fault === 'ok' || verdict.fault === 'slow_drip')
			res.once('finish', () => promptCount.answered++);
		if (verdict.fault === 'drop_mid_body') {
			const payload = Buffer.from(JSON.stringify(response.body));
			res.writeHead(200, {
				'content-type': 'application/json',
				...response.headers,
				'content-length': payload.length,
			});
			res.write(payload.subarray(0, payload.length >> 1), () => req.socket.destroy());
			return;
		}
		// An answer counts as sent when its last byte is handed over, before the client can have it.
		const counted = () => this.answerCounts.set(key, (this.answerCounts.get(key) ?? 0) + 1);
		if (verdict.fault === 'slow_drip')
			return drip(res, response, verdict.dripSeconds ?? 30, counted);
		if (verdict.fault === 'ok') counted();
		if (call.provider === 'ollama' && call.ollamaStream) {
			// Ollama streams NDJSON unless stream:false; one final chunk is a faithful short stream.
			res.writeHead(200, { 'content-type': 'application/x-ndjson' });
			res.end(`${JSON.stringify(response.body)}\n`);
			return;
		}
		send(res, response);
	}

	/** The model lists that credential tests call; they check the key like any request. */
	private listModels(req: IncomingMessage, res: ServerResponse, url: URL): void {
		const header = (name: string) => String(req.headers[name] ?? '');
		let provider: WireProvider | undefined;
		let key = '';
		if (url.pathname === '/api/tags') {
			provider = 'ollama';
			key = header('authorization').replace(/^Bearer\s+/i, '');
		} else if (/^\/(v1|v1beta)\/models$/.test(url.pathname)) {
			if (header('x-goog-api-key') || url.searchParams.has('key')) {
				provider = 'gemini';
				key = header('x-goog-api-key') || (url.searchParams.get('key') ?? '');
			} else if (header('x-api-key')) {
				provider = 'anthropic';
				key = header('x-api-key');
			} else {
				provider = 'openai';
				key = header('authorization').replace(/^Bearer\s+/i, '');
			}
		}
		if (!provider)
			return send(res, {
				status: 404,
				headers: {},
				body: { error: `no route for GET ${url.pathname}` },
			});
		const expected = this.state.scenario.apiKeys?.[provider];
		const requestId = `req_emu${(++this.sequence).toString(36).padStart(6, '0')}`;
		if (expected !== undefined && key !== expected) {
			return send(res, errorResponse(provider, 'auth', { model: '', requestId }));
		}
		send(res, { status: 200, headers: {}, body: modelList(provider) });
	}

	private defaultReply(call: ParsedCall): string {
		const template = this.state.scenario.reply;
		if (template !== undefined) {
			return template
				.replaceAll('{provider}', call.provider)
				.replaceAll('{model}', call.model)
				.replaceAll('{prompt}', call.promptText);
		}
		if (call.wantsJson)
			return JSON.stringify({ answer: `Emulated answer from ${call.provider}/${call.model}.` });
		return `Emulated answer from ${call.provider}/${call.model}.`;
	}

	private async admin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
		const route = `${req.method} ${url.pathname}`;
		try {
			switch (route) {
				case 'GET /_emulator/health':
					return send(res, { status: 200, headers: {}, body: { ok: true } });
				case 'GET /_emulator/stats':
					return send(res, { status: 200, headers: {}, body: this.stats() });
				case 'GET /_emulator/requests':
					return send(res, { status: 200, headers: {}, body: this.received() });
				case 'POST /_emulator/reset':
					this.resetCounts();
					return send(res, { status: 200, headers: {}, body: this.stats() });
				case 'GET /_emulator/scenario':
					return send(res, { status: 200, headers: {}, body: this.state.scenario });
				case 'PUT /_emulator/scenario':
				case 'POST /_emulator/scenario':
					this.loadScenario(JSON.parse(await readBody(req)));
					return send(res, { status: 200, headers: {}, body: this.state.scenario });
				case 'POST /_emulator/rules': {
					const parsed = JSON.parse(await readBody(req)) as { rules?: Rule[] } | Rule[];
					this.addRules(Array.isArray(parsed) ? parsed : (parsed.rules ?? []));
					return send(res, { status: 200, headers: {}, body: this.state.scenario });
				}
			}
		} catch (error) {
			const message =
				error instanceof ScenarioError || error instanceof SyntaxError
					? error.message
					: String(error);
			return send(res, { status: 400, headers: {}, body: { error: message } });
		}
		return send(res, { status: 404, headers: {}, body: { error: `no admin route ${route}` } });
	}
}

/** Each wire format's model list, with the models the registry names for the providers that speak it. */
function modelList(wire: WireProvider): Record<string, unknown> {
	const models = [...new Set(PROVIDERS.filter((p) => p.wire === wire).flatMap((p) => p.models))];
	switch (wire) {
		case 'ollama':
			return { models: models.map((name) => ({ name, model: name })) };
		case 'gemini':
			return {
				models: models.map((name) => ({
					name: `models/${name}`,
					displayName: name,
					supportedGenerationMethods: ['generateContent', 'countTokens'],
				})),
			};
		case 'anthropic':
			return {
				data: models.map((id) => ({ id, display_name: id, type: 'model' })),
				has_more: false,
				first_id: models[0],
				last_id: models[models.length - 1],
			};
		case 'openai':
			return { data: models.map((id) => ({ id, object: 'model' })), object: 'list' };
	}
}

function textOf(content: unknown): string {
	if (typeof content === 'string') return content;
	if (Array.isArray(content)) {
		return content
			.map((part) =>
				part && typeof part === 'object' && 'text' in part
					? String((part as { text: unknown }).text)
					: '',
			)
			.join('');
	}
	return '';
}

function messagesText(messages: unknown): string {
	if (!Array.isArray(messages)) return '';
	return messages.map((m) => textOf((m as { content?: unknown })?.content)).join('\n');
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
	return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function list(value: unknown): unknown[] {
	return Array.isArray(value) ? value : [];
}

function asText(value: unknown): string {
	return typeof value === 'string' ? value : JSON.stringify(value ?? '');
}

/** Anthropic: tool_use blocks in assistant turns, tool_result blocks in the user turn right after. */
function readAnthropic(body: Json): ConversationRead {
	const tools: string[] = [];
	let problem: string | undefined;
	let toolText = '';
	list(body.tools).forEach((tool, i) => {
		if (!isObject(tool) || typeof tool.name !== 'string') {
			problem ??= `tools.${i}.name: Field required`;
			return;
		}
		if (tool.type === undefined && !isObject(tool.input_schema))
			problem ??= `tools.${i}.custom.input_schema: Field required`;
		tools.push(tool.name);
		toolText += JSON.stringify(tool);
	});
	let toolResults = 0;
	let turn = 0;
	let pending: string[] = [];
	list(body.messages).forEach((message, i) => {
		if (!isObject(message)) return;
		const blocks = Array.isArray(message.content) ? message.content.filter(isObject) : [];
		if (message.role === 'assistant') {
			if (pending.length > 0)
				problem ??= `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${pending.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
			turn++;
			pending = [];
			for (const block of blocks) {
				if (block.type !== 'tool_use') continue;
				pending.push(String(block.id));
				toolText += JSON.stringify(block.input ?? {});
			}
			return;
		}
		const answered = new Set<string>();
		let spoke = typeof message.content === 'string';
		blocks.forEach((block, j) => {
			if (block.type === 'tool_result') {
				toolResults++;
				const id = String(block.tool_use_id);
				if (!pending.includes(id))
					problem ??= `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
				answered.add(id);
				toolText += typeof block.content === 'string' ? block.content : textOf(block.content);
			} else if (block.type === 'text') spoke = true;
		});
		const unanswered = pending.filter((id) => !answered.has(id));
		if (unanswered.length > 0)
			problem ??= `messages.${i - 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${unanswered.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
		pending = [];
		if (spoke && answered.size === 0) turn = 0;
	});
	return { shape: { toolResults, turn, hasTools: tools.length > 0 }, tools, toolText, problem };
}

/**
 * OpenAI and Ollama: tool_calls on assistant messages, answered by messages with role
 * "tool". OpenAI checks that every call is answered by id; Ollama's calls have no ids.
 */
function readOpenAiStyle(body: Json, checkIds: boolean): ConversationRead {
	const tools: string[] = [];
	let problem: string | undefined;
	let toolText = '';
	list(body.tools).forEach((tool, i) => {
		const fn = isObject(tool) ? tool.function : undefined;
		if (
			!isObject(tool) ||
			tool.type !== 'function' ||
			!isObject(fn) ||
			typeof fn.name !== 'string'
		) {
			problem ??= checkIds
				? `Missing required parameter: 'tools[${i}].function'.`
				: 'invalid tool definition';
			return;
		}
		tools.push(fn.name);
		toolText += JSON.stringify(tool);
	});
	let toolResults = 0;
	let turn = 0;
	let pending: string[] = [];
	const unanswered = () => {
		if (checkIds && pending.length > 0)
			problem ??= `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${pending.join(', ')}`;
		pending = [];
	};
	let afterCalls = false;
	list(body.messages).forEach((message, i) => {
		if (!isObject(message)) return;
		if (message.role === 'tool') {
			toolResults++;
			toolText += asText(message.content);
			const id = String(message.tool_call_id ?? '');
			if (checkIds && (!afterCalls || !pending.includes(id)))
				problem ??= `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.`;
			pending = pending.filter((p) => p !== id);
			return;
		}
		unanswered();
		afterCalls = false;
		if (message.role === 'assistant') {
			turn++;
			for (const call of list(message.tool_calls)) {
				if (!isObject(call) || !isObject(call.function)) continue;
				if (checkIds) {
					if (typeof call.id !== 'string') {
						problem ??= `Missing required parameter: 'messages[${i}].tool_calls[0].id'.`;
						continue;
					}
					pending.push(call.id);
				}
				toolText += asText(call.function.arguments);
				afterCalls = true;
			}
		} else if (message.role === 'user') turn = 0;
	});
	unanswered();
	return { shape: { toolResults, turn, hasTools: tools.length > 0 }, tools, toolText, problem };
}

/** Gemini: functionCall parts in "model" turns, functionResponse parts in the user turn after. */
function readGemini(body: Json): ConversationRead {
	const tools: string[] = [];
	let toolText = '';
	let problem: string | undefined;
	for (const tool of list(body.tools)) {
		if (!isObject(tool)) continue;
		for (const declaration of list(tool.functionDeclarations)) {
			if (!isObject(declaration) || typeof declaration.name !== 'string') continue;
			tools.push(declaration.name);
			toolText += JSON.stringify(declaration);
		}
	}
	let toolResults = 0;
	let turn = 0;
	let called: string[] = [];
	for (const content of list(body.contents)) {
		if (!isObject(content)) continue;
		const parts = list(content.parts).filter(isObject);
		if (content.role === 'model') {
			turn++;
			called = [];
			for (const part of parts) {
				if (!isObject(part.functionCall)) continue;
				called.push(String(part.functionCall.name));
				toolText += JSON.stringify(part.functionCall.args ?? {});
			}
			continue;
		}
		let responded = false;
		for (const part of parts) {
			if (!isObject(part.functionResponse)) continue;
			responded = true;
			toolResults++;
			toolText += JSON.stringify(part.functionResponse.response ?? {});
			if (!called.includes(String(part.functionResponse.name)))
				problem ??=
					'Please ensure that function response turn comes immediately after a function call turn.';
		}
		called = [];
		if (!responded && parts.some((part) => typeof part.text === 'string')) turn = 0;
	}
	return { shape: { toolResults, turn, hasTools: tools.length > 0 }, tools, toolText, problem };
}

function parseCall(
	url: URL,
	req: IncomingMessage,
	body: Record<string, unknown>,
): ParsedCall | undefined {
	const path = url.pathname;
	const header = (name: string) => {
		const v = req.headers[name];
		return Array.isArray(v) ? v[0] : (v ?? '');
	};
	const bearer = header('authorization').replace(/^Bearer\s+/i, '');
	if (path === '/v1/messages') {
		return {
			provider: 'anthropic',
			model: String(body.model ?? ''),
			promptText: `${textOf(body.system)}\n${messagesText(body.messages)}`,
			wantsJson: false,
			apiKey: header('x-api-key') || bearer,
			ollamaStream: false,
			conversation: readAnthropic(body),
		};
	}
	if (path === '/v1/chat/completions') {
		const format = body.response_format as { type?: string } | undefined;
		return {
			provider: 'openai',
			model: String(body.model ?? ''),
			promptText: messagesText(body.messages),
			wantsJson: format?.type === 'json_object' || format?.type === 'json_schema',
			apiKey: bearer,
			ollamaStream: false,
			conversation: readOpenAiStyle(body, true),
		};
	}
	const gemini = /^\/(v1|v1beta|v1alpha)\/models\/([^:/]+):generateContent$/.exec(path);
	if (gemini) {
		const contents = body.contents;
		const text = Array.isArray(contents)
			? contents.map((c) => textOf((c as { parts?: unknown })?.parts)).join('\n')
			: textOf(contents);
		const config = (body.generationConfig ?? {}) as { responseMimeType?: string };
		const system = (body.systemInstruction ?? {}) as { parts?: unknown };
		return {
			provider: 'gemini',
			model: decodeURIComponent(gemini[2]),
			promptText: `${textOf(system.parts)}\n${text}`,
			wantsJson: config.responseMimeType === 'application/json',
			apiKey: header('x-goog-api-key') || (url.searchParams.get('key') ?? ''),
			ollamaStream: false,
			conversation: readGemini(body),
		};
	}
	if (path === '/api/chat') {
		return {
			provider: 'ollama',
			model: String(body.model ?? ''),
			promptText: messagesText(body.messages),
			wantsJson: body.format === 'json' || typeof body.format === 'object',
			apiKey: bearer,
			ollamaStream: body.stream !== false,
			conversation: readOpenAiStyle(body, false),
		};
	}
	return undefined;
}

function readBody(req: IncomingMessage): Promise<string> {
	return new Promise((resolve, reject) => {
		const chunks: Buffer[] = [];
		let size = 0;
		req.on('data', (chunk: Buffer) => {
			size += chunk.length;
			if (size > MAX_BODY_BYTES) {
				reject(new Error('request body too large'));
				req.destroy();
				return;
			}
			chunks.push(chunk);
		});
		req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
		req.on('error', reject);
	});
}

function send(res: ServerResponse, response: WireResponse): void {
	const payload = JSON.stringify(response.body);
	res.writeHead(response.status, {
		'content-type': 'application/json',
		...response.headers,
		'content-length': Buffer.byteLength(payload),
	});
	res.end(payload);
}

/** What nginx sends when the server behind it is down. */
const PROXY_502_PAGE =
	'<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

/**
 * Sends a real answer one byte at a time, spread over `seconds`: a server (or a proxy) that
 * keeps the connection alive without ever quite answering. Stops when the client gives up.
 */
function drip(
	res: ServerResponse,
	response: WireResponse,
	seconds: number,
	onLastByte: () => void,
): void {
	const payload = Buffer.from(JSON.stringify(response.body));
	res.writeHead(response.status, {
		'content-type': 'application/json',
		...response.headers,
		'content-length': payload.length,
	});
	res.flushHeaders();
	const everyMs = (seconds * 1000) / payload.length;
	let sent = 0;
	const timer = setInterval(() => {
		if (res.destroyed) return clearInterval(timer);
		res.write(payload.subarray(sent, sent + 1));
		sent++;
		if (sent >= payload.length) {
			clearInterval(timer);
			onLastByte();
			res.end();
		}
	}, everyMs);
	res.once('close', () => clearInterval(timer));
}

function delay(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
