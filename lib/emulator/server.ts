/**
 * One HTTP server that speaks the Anthropic, OpenAI, Gemini and Ollama wire formats, with
 * faults scripted per provider and model. The test bed for the engine and the nodes, and a
 * way for operators to rehearse an outage before it happens.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { ProviderWire, WireCall } from '../providers/wireFormat';
import { admin } from './admin';
import { answer } from './answer';
import { inputTokens } from './answerText';
import { readBody, send, sendJson } from './http';
import { modelList, readCall, readListRequest, wireRequest } from './routes';
import { parseScenario } from './scenario';
import type { Profile, Rule, Scenario } from './scenario';
import { ScenarioState } from './scenarioState';
import { Tally } from './tally';
import type { EmulatorStats, PromptCount, ReceivedCall } from './tally';
import { WIRES } from './wire';
import type { WireProvider, WireResponse } from './wire';

export type { EmulatorStats, PromptCount, ReceivedCall } from './tally';

export interface EmulatorOptions {
	port?: number;
	/** Loopback unless told otherwise. */
	host?: string;
	scenario?: Scenario;
	random?: () => number;
	/** The pacing of a scenario that names no profile: `instant` (the default) or `realistic`. */
	profile?: Profile;
}

/** Base URLs to give each provider's SDK or credential. */
export type ProviderUrls = Record<WireProvider, string>;

export class ProviderEmulator {
	private server: Server | undefined;
	private state: ScenarioState;
	private readonly random: () => number;
	private readonly tally = new Tally();
	private sequence = 0;
	private url = '';

	constructor(private readonly options: EmulatorOptions = {}) {
		this.random = options.random ?? Math.random;
		this.state = this.stateFor(options.scenario ?? {});
	}

	private stateFor(scenario: unknown): ScenarioState {
		return new ScenarioState(
			parseScenario(scenario),
			this.random,
			Date.now(),
			this.options.profile,
		);
	}

	get baseUrl(): string {
		return this.url;
	}

	/** Each SDK's idea of a base URL: OpenAI's includes /v1, the others add their own paths. */
	get urls(): ProviderUrls {
		return Object.fromEntries(
			WIRES.map((wire) => [wire.name, `${this.url}${wire.basePath}`]),
		) as ProviderUrls;
	}

	/** The scenario as loaded, rules added at run time included. */
	get scenario(): Scenario {
		return this.state.scenario;
	}

	async start(): Promise<string> {
		const server = createServer((req, res) => {
			this.handle(req, res).catch((error: unknown) => {
				if (!res.headersSent) sendJson(res, 500, { error: String(error) });
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
		this.state = this.stateFor(scenario);
	}

	addRules(rules: Rule[]): void {
		parseScenario({ rules });
		this.state.addRules(rules);
	}

	stats(): EmulatorStats {
		return this.tally.stats();
	}

	/** Normal answers sent in full, for one provider or one provider and model. */
	answers(provider?: WireProvider, model?: string): number {
		return this.tally.answers(provider, model);
	}

	/** Requests seen for one provider, or one provider and model. */
	count(provider: WireProvider, model?: string): number {
		return this.tally.count(provider, model);
	}

	/** The model calls received since the last reset (the latest 200), oldest first; one provider's if named. */
	received(provider?: WireProvider): ReceivedCall[] {
		return this.tally.calls(provider);
	}

	/**
	 * Requests and full answers per prompt text, so a test can tell which items were called
	 * again (the prompt is the last user message, or all of them joined).
	 */
	promptCounts(): Map<string, PromptCount> {
		return this.tally.promptCounts();
	}

	resetCounts(): void {
		this.tally.reset();
	}

	private nextRequestId(): string {
		return `req_emu${(++this.sequence).toString(36).padStart(6, '0')}`;
	}

	private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
		const url = new URL(req.url ?? '/', 'http://emulator');
		if (url.pathname.startsWith('/_emulator/')) return admin(this, req, res, url);
		if (req.method === 'GET') return this.listModels(req, res, url);
		if (req.method !== 'POST')
			return sendJson(res, 404, { error: `no route for ${req.method} ${url.pathname}` });
		const raw = await readBody(req);
		let body: Record<string, unknown>;
		try {
			body = JSON.parse(raw) as Record<string, unknown>;
		} catch {
			return sendJson(res, 400, { error: 'request body is not JSON' });
		}
		const read = readCall(wireRequest(req, url), body);
		if (!read) return sendJson(res, 404, { error: `no route for POST ${url.pathname}` });
		const { wire, call } = read;
		const { shape, tools } = call.conversation;
		const promptCount = this.tally.received(
			{
				provider: wire.name,
				model: call.model,
				path: url.pathname,
				body,
				tools,
				toolResults: shape.toolResults,
				turn: shape.turn,
				stream: call.stream,
			},
			call.promptText,
		);
		res.once('close', this.tally.opened());
		const requestId = this.nextRequestId();
		const refusal = this.refusal(wire, call, requestId);
		if (refusal) return send(res, refusal);
		const charge = this.admit(res, wire, call, requestId);
		if (!charge) return;
		const verdict = this.state.decide(
			wire.name,
			call.model,
			Date.now(),
			shape,
			call.promptText,
			call.apiKey,
		);
		await answer(
			{
				req,
				res,
				wire,
				call,
				requestId,
				replyTemplate: this.state.scenario.reply,
				promptCount,
				counted: () => this.tally.answered(wire.name, call.model),
				charge,
			},
			verdict,
		);
	}

	/** A wrong key, or a conversation the real provider rejects: answered before any rule. */
	private refusal(wire: ProviderWire, call: WireCall, requestId: string): WireResponse | undefined {
		const expectedKey = this.state.scenario.apiKeys?.[wire.name];
		if (expectedKey !== undefined && call.apiKey !== expectedKey)
			return wire.error('auth', { model: call.model, requestId });
		const problem = call.conversation.problem;
		if (problem !== undefined)
			return wire.error('bad_request', { model: call.model, requestId, message: problem });
		return undefined;
	}

	/**
	 * Checks the call against the scenario's rate limits, after the refusals and before the
	 * rules. Over a limit: the provider's 429 naming it is sent, and nothing is returned. Else
	 * how the answer charges its output tokens and puts the limits' headers on the response.
	 */
	private admit(
		res: ServerResponse,
		wire: ProviderWire,
		call: WireCall,
		requestId: string,
	): ((outputTokens: number) => void) | undefined {
		const admission = this.state.limits.admit(
			wire.name,
			call.model,
			call.apiKey,
			inputTokens(call),
			Date.now(),
		);
		if (!admission) return () => undefined;
		const charge = (outputTokens: number) => {
			const now = Date.now();
			const headers = wire.limitHeaders?.(admission.charge(outputTokens, now), now) ?? {};
			// Set on the response, every way of answering (whole, streamed, error) sends them.
			for (const [name, value] of Object.entries(headers)) res.setHeader(name, value);
		};
		const limit = admission.refused;
		if (!limit) return charge;
		charge(0);
		this.tally.limited(call.apiKey);
		const retryAfterS = limit.retryAfterMs / 1000;
		send(res, wire.error('rate_limited', { model: call.model, requestId, retryAfterS, limit }));
		return undefined;
	}

	/** The model lists that credential tests call; they check the key like any request. */
	private listModels(req: IncomingMessage, res: ServerResponse, url: URL): void {
		const read = readListRequest(wireRequest(req, url));
		if (!read) return sendJson(res, 404, { error: `no route for GET ${url.pathname}` });
		const expected = this.state.scenario.apiKeys?.[read.wire.name];
		const requestId = this.nextRequestId();
		if (expected !== undefined && read.key !== expected)
			return send(res, read.wire.error('auth', { model: '', requestId }));
		sendJson(res, 200, modelList(read.wire));
	}
}
