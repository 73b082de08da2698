/** A Jira REST fake (the calls the stock Jira node makes to create an issue), on loopback. */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface JiraIssue {
	id: string;
	key: string;
	fields: {
		summary?: string;
		description?: string;
		project?: { id?: string };
		issuetype?: { id?: string };
		labels?: string[];
	};
	authorization: string;
}

export class JiraFake {
	readonly issues: JiraIssue[] = [];
	private server: Server | undefined;
	private base = '';

	get url(): string {
		return this.base;
	}

	async start(port = 0): Promise<string> {
		const server = createServer((req, res) => {
			const chunks: Buffer[] = [];
			req.on('data', (c: Buffer) => chunks.push(c));
			req.on('end', () => {
				const send = (status: number, body: unknown) => {
					res.writeHead(status, { 'content-type': 'application/json' });
					res.end(JSON.stringify(body));
				};
				const path = (req.url ?? '').split('?')[0];
				if (req.method === 'GET' && path === '/rest/api/2/issuetype') {
					return send(200, [
						{ id: '10001', name: 'Task', subtask: false },
						{ id: '10002', name: 'Sub-task', subtask: true },
					]);
				}
				if (
					req.method === 'GET' &&
					(path === '/rest/api/2/myself' || path === '/rest/api/2/serverInfo')
				) {
					return send(200, { name: 'n8n', displayName: 'n8n bot', version: '9.12.0' });
				}
				if (req.method === 'POST' && path === '/rest/api/2/issue') {
					let body: { fields?: JiraIssue['fields'] } = {};
					try {
						body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
					} catch {
						return send(400, { errorMessages: ['body is not JSON'] });
					}
					if (!body.fields?.summary)
						return send(400, { errors: { summary: 'You must specify a summary of the issue.' } });
					const id = String(10_000 + this.issues.length + 1);
					const key = `OPS-${this.issues.length + 1}`;
					this.issues.push({
						id,
						key,
						fields: body.fields,
						authorization: String(req.headers.authorization ?? ''),
					});
					return send(201, { id, key, self: `${this.base}/rest/api/2/issue/${id}` });
				}
				send(404, { errorMessages: [`the Jira fake does not answer ${req.method} ${path}`] });
			});
		});
		this.server = server;
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(port, '127.0.0.1', () => resolve());
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
