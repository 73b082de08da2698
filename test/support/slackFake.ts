/**
 * A Slack Web API fake behind an intercepting HTTPS proxy. The stock Slack node's base URL is
 * fixed (https://slack.com/api), so n8n is started with HTTPS_PROXY pointing here and
 * NODE_EXTRA_CA_CERTS trusting this proxy's own test CA. Only the faked Slack calls are
 * answered; every other request is refused, so nothing leaves the machine.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import * as mockttp from 'mockttp';

import { freePort } from '../harness/n8n';

export interface SlackMessage {
	channel: string;
	text: string;
	token: string;
	at: string;
}

export class SlackFake {
	readonly messages: SlackMessage[] = [];
	private server: mockttp.Mockttp | undefined;
	private caFile = '';
	/** URLs the proxy refused: anything but the faked Slack calls. */
	readonly refused: string[] = [];

	/** Starts the proxy on a loopback port; returns the environment n8n needs to use it. */
	async start(port?: number): Promise<Record<string, string>> {
		const ca = await mockttp.generateCACertificate({
			subject: { commonName: 'Resilient LLM test CA' },
		});
		const dir = mkdtempSync(join(tmpdir(), 'slack-fake-'));
		this.caFile = join(dir, 'ca.pem');
		writeFileSync(this.caFile, ca.cert);
		const server = mockttp.getLocal({ https: { key: ca.key, cert: ca.cert } });
		const listenPort = port ?? (await freePort());
		await server.start({ startPort: listenPort, endPort: listenPort });
		this.server = server;
		await server.forPost('https://slack.com/api/chat.postMessage').thenCallback(async (request) => {
			const body =
				((await request.body.getJson()) as Record<string, unknown> | undefined) ??
				Object.fromEntries(new URLSearchParams((await request.body.getText()) ?? ''));
			const token = String(request.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
			const message = {
				channel: String(body.channel ?? ''),
				text: String(body.text ?? ''),
				token,
				at: new Date().toISOString(),
			};
			this.messages.push(message);
			const ts = `${Math.floor(Date.now() / 1000)}.${String(this.messages.length).padStart(6, '0')}`;
			return {
				statusCode: 200,
				json: {
					ok: true,
					channel: 'C0FAKE',
					ts,
					message: { type: 'message', text: message.text, ts },
				},
			};
		});
		await server.forPost('https://slack.com/api/auth.test').thenJson(200, {
			ok: true,
			url: 'https://fake.slack.com/',
			team: 'Fake',
			user: 'n8n',
			team_id: 'T0FAKE',
			user_id: 'U0FAKE',
		});
		// Everything else: refused and recorded, so tests can see what was tried.
		await server.forUnmatchedRequest().thenCallback((request) => {
			this.refused.push(request.url);
			return {
				statusCode: 403,
				body: 'refused by the Slack fake: only slack.com/api/chat.postMessage and auth.test are answered',
			};
		});
		return {
			HTTPS_PROXY: server.url,
			HTTP_PROXY: server.url,
			NO_PROXY: '127.0.0.1,localhost,::1',
			NODE_EXTRA_CA_CERTS: this.caFile,
		};
	}

	get url(): string {
		return this.server?.url ?? '';
	}

	async stop(): Promise<void> {
		await this.server?.stop();
		this.server = undefined;
	}
}
