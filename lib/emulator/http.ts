/** The emulator's HTTP plumbing: reading a body, sending JSON, and the transport faults. */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { WireResponse } from './wire';

const MAX_BODY_BYTES = 10 * 1024 * 1024;

export function readBody(req: IncomingMessage): Promise<string> {
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

export function send(res: ServerResponse, response: WireResponse): void {
	const payload = JSON.stringify(response.body);
	res.writeHead(response.status, {
		'content-type': 'application/json',
		...response.headers,
		'content-length': Buffer.byteLength(payload),
	});
	res.end(payload);
}

/** A JSON answer of the emulator's own (routes, admin), with no provider headers. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
	send(res, { status, headers: {}, body });
}

/** 200 with a JSON body cut off part-way; the response itself ends normally. */
export function sendMalformed(res: ServerResponse): void {
	res.writeHead(200, { 'content-type': 'application/json' });
	res.end('{"id": "msg_01", "content": [{"type": "te');
}

/** What nginx sends when the server behind it is down. */
const PROXY_502_PAGE =
	'<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

export function sendProxyPage(res: ServerResponse): void {
	res.writeHead(502, {
		'content-type': 'text/html',
		server: 'nginx',
		'content-length': Buffer.byteLength(PROXY_502_PAGE),
	});
	res.end(PROXY_502_PAGE);
}

/** 200 and its headers, half the body, then the connection is cut. */
export function sendHalf(req: IncomingMessage, res: ServerResponse, response: WireResponse): void {
	const payload = Buffer.from(JSON.stringify(response.body));
	res.writeHead(200, {
		'content-type': 'application/json',
		...response.headers,
		'content-length': payload.length,
	});
	res.write(payload.subarray(0, payload.length >> 1), () => req.socket.destroy());
}

/** 200 and the headers of a whole answer, then nothing: a stall before the first byte of its body. */
export function sendHeadersOnly(res: ServerResponse, response: WireResponse): void {
	res.writeHead(response.status, {
		'content-type': 'application/json',
		...response.headers,
		'content-length': Buffer.byteLength(JSON.stringify(response.body)),
	});
	res.flushHeaders();
}

/**
 * Sends a real answer one byte at a time, spread over `seconds`: a server (or a proxy) that
 * keeps the connection alive without ever quite answering. Stops when the client gives up.
 */
export function drip(
	res: ServerResponse,
	response: WireResponse,
	seconds: number,
	onLastByte: () => void,
): void {
	const headers = { 'content-type': 'application/json', ...response.headers };
	dripBytes(res, response.status, headers, JSON.stringify(response.body), seconds, onLastByte);
}

/** The same for any payload: a stream's events, one byte at a time. */
export function dripBytes(
	res: ServerResponse,
	status: number,
	headers: Record<string, string>,
	text: string,
	seconds: number,
	onLastByte: () => void,
): void {
	const payload = Buffer.from(text);
	res.writeHead(status, { ...headers, 'content-length': payload.length });
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

export function delay(ms: number): Promise<void> {
	return new Promise((resolve) => setTimeout(resolve, ms));
}
