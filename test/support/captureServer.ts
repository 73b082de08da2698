/**
 * A loopback HTTP server that records which requests reached it, headers included, and
 * answers each with what the test says: a stand-in for a host that should not see a key.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CapturedRequest {
	method: string;
	path: string;
	headers: IncomingHttpHeaders;
}

export type Answer = (request: CapturedRequest, res: ServerResponse) => void;

/** An OpenAI-style answer: a model list for GET, a chat completion for POST. */
export const openAiAnswer: Answer = (request, res) => {
	res.writeHead(200, { 'content-type': 'application/json' });
	if (request.method === 'GET') {
		res.end(JSON.stringify({ object: 'list', data: [{ id: 'gateway-model' }] }));
		return;
	}
	res.end(
		JSON.stringify({
			id: 'chatcmpl-capture',
			object: 'chat.completion',
			created: 0,
			model: 'gateway-model',
			choices: [
				{
					index: 0,
					message: { role: 'assistant', content: 'Answer from the capture server.' },
					finish_reason: 'stop',
				},
			],
			usage: { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 },
		}),
	);
};

export class CaptureServer {
	readonly requests: CapturedRequest[] = [];
	private server: Server | undefined;
	private base = '';

	constructor(private answer: Answer = openAiAnswer) {}

	/** `http://127.0.0.1:<port>`, no trailing slash. */
	get url(): string {
		return this.base;
	}

	answerWith(answer: Answer): void {
		this.answer = answer;
	}

	reset(answer: Answer = openAiAnswer): void {
		this.requests.length = 0;
		this.answer = answer;
	}

	/** Every header value this server received, for "did the key arrive here" checks. */
	headerText(): string {
		return JSON.stringify(this.requests.map((r) => r.headers));
	}

	async start(): Promise<string> {
		const server = createServer((req, res) => {
			req.resume();
			req.on('end', () => {
				const request = { method: req.method ?? '', path: req.url ?? '', headers: req.headers };
				this.requests.push(request);
				this.answer(request, res);
			});
		});
		this.server = server;
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(0, '127.0.0.1', () => resolve());
		});
		this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
		return this.base;
	}

	async stop(): Promise<void> {
		const server = this.server;
		this.server = undefined;
		if (!server) return;
		server.closeAllConnections();
		await new Promise<void>((resolve) => server.close(() => resolve()));
	}
}
