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
import type { Rule, Scenario } from './scenario';
import { HTTP_FAULTS, errorResponse, successResponse } from './wire';
import type { Finish, HttpFault, WireProvider, WireResponse } from './wire';

const MAX_BODY_BYTES = 10 * 1024 * 1024;

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
}

/** Base URLs to give each provider's SDK or credential. */
export interface ProviderUrls {
	anthropic: string;
	openai: string;
	gemini: string;
	ollama: string;
}

interface ParsedCall {
	provider: WireProvider;
	model: string;
	promptText: string;
	wantsJson: boolean;
	apiKey: string;
	ollamaStream: boolean;
}

const REFUSAL_TEXT = "I can't help with that request.";
const NOT_JSON_TEXT = 'Sure! Here is what you asked for, in plain words rather than JSON.';

export class ProviderEmulator {
	private server: Server | undefined;
	private state: ScenarioState;
	private readonly random: () => number;
	private counts = new Map<string, number>();
	private prompts = new Map<string, PromptCount>();
	private total = 0;
	private inFlight = 0;
	private maxInFlight = 0;
	private sequence = 0;
	private url = '';

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
		};
	}

	/** Requests seen for one provider, or one provider and model. */
	count(provider: WireProvider, model?: string): number {
		if (model !== undefined) return this.counts.get(`${provider}/${model}`) ?? 0;
		let sum = 0;
		for (const [key, value] of this.counts) if (key.startsWith(`${provider}/`)) sum += value;
		return sum;
	}

	/**
	 * Requests and full answers per prompt text, so a test can tell which items were called
	 * again (the prompt is the last user message, or all of them joined).
	 */
	promptCounts(): Map<string, PromptCount> {
		return new Map([...this.prompts].map(([prompt, count]) => [prompt, { ...count }]));
	}

	resetCounts(): void {
		this.counts.clear();
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

		const verdict = this.state.decide(call.provider, call.model);
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
		const finish = (verdict.fault === 'ok' ? 'stop' : verdict.fault) as Finish;
		let text = verdict.reply ?? this.defaultReply(call);
		if (finish === 'refused') text = REFUSAL_TEXT;
		if (finish === 'invalid_output') text = NOT_JSON_TEXT;
		if (finish === 'truncated') text = `${text.slice(0, Math.max(8, Math.floor(text.length / 2)))}`;
		const usage = {
			input: Math.ceil(call.promptText.length / 4) + 3,
			output: Math.max(1, Math.ceil(text.length / 4)),
		};
		const response = successResponse(call.provider, call.model, text, finish, usage, requestId);
		// Counted once the last byte is handed to the socket: an answer the client could have read.
		res.once('finish', () => promptCount.answered++);
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

function delay(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
