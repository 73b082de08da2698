/** A real SMTP server on loopback that keeps what it receives, parsed. */
import type { AddressInfo } from 'node:net';

import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
	from: string;
	to: string[];
	subject: string;
	text: string;
	html: string;
}

export class SmtpFake {
	readonly mails: ReceivedMail[] = [];
	private server: SMTPServer | undefined;
	port = 0;

	async start(port = 0): Promise<number> {
		const server = new SMTPServer({
			authOptional: true,
			disabledCommands: ['STARTTLS'],
			logger: false,
			size: 5 * 1024 * 1024,
			onAuth: (_auth, _session, callback) => callback(null, { user: 'n8n' }),
			onData: (stream, session, callback) => {
				simpleParser(stream)
					.then((mail) => {
						this.mails.push({
							from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
							to: session.envelope.rcptTo.map((r) => r.address),
							subject: mail.subject ?? '',
							text: mail.text ?? '',
							html: typeof mail.html === 'string' ? mail.html : '',
						});
						callback();
					})
					.catch((error: Error) => callback(error));
			},
		});
		this.server = server;
		await new Promise<void>((resolve, reject) => {
			server.once('error', reject);
			server.listen(port, '127.0.0.1', () => resolve());
		});
		this.port = (server.server.address() as AddressInfo).port;
		return this.port;
	}

	async stop(): Promise<void> {
		const server = this.server;
		this.server = undefined;
		if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
	}
}
