/** Sending a streamed answer: chunk by chunk at its pace, and the faults that break it on the way. */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { delay } from './http';
import type { Pace } from './pacing';
import type { WireStream } from './wire';

/** How a stream breaks after some of its chunks: cut, stalled, or with an error event. */
export interface StreamBreak {
	after: number;
	then: 'cut' | 'stall' | { event: string };
}

export interface Streaming {
	req: IncomingMessage;
	res: ServerResponse;
	stream: WireStream;
	pace?: Pace;
	breaks?: StreamBreak;
}

/**
 * The chunks sent before a stream fault: `afterChunks`, or `afterShare` of them (half when
 * neither is given), and never the last one, which ends the stream.
 */
export function chunksBefore(total: number, afterChunks?: number, afterShare?: number): number {
	const at = afterChunks ?? Math.floor((afterShare ?? 0.5) * total);
	return Math.max(0, Math.min(at, total - 1));
}

/** Writes one chunk and waits until it is handed to the socket; false once the client has gone. */
function write(res: ServerResponse, chunk: string): Promise<boolean> {
	if (res.destroyed || res.writableEnded || res.socket?.destroyed !== false)
		return Promise.resolve(false);
	return new Promise((resolve) => res.write(chunk, (error) => resolve(!error)));
}

/** The wait before chunk i: the first token's, a chunk's worth of tokens, none before the end. */
function waitBefore(i: number, last: number, pace: Pace | undefined): number {
	if (!pace) return 0;
	if (i === 0) return pace.firstTokenMs;
	return i === last ? 0 : pace.chunkTokens * pace.msPerToken;
}

/**
 * Sends the 200 and its headers at once, then each chunk at its pace. A whole stream counts
 * as answered (`onLastChunk`) when its last chunk is handed over.
 */
export async function sendStream(s: Streaming, onLastChunk: () => void): Promise<void> {
	const { res, stream, pace, breaks } = s;
	res.writeHead(200, stream.headers);
	res.flushHeaders();
	const last = stream.chunks.length - 1;
	const count = breaks ? breaks.after : stream.chunks.length;
	for (let i = 0; i < count; i++) {
		const wait = waitBefore(i, last, pace);
		if (wait > 0) await delay(wait);
		if (!breaks && i === last) onLastChunk();
		if (!(await write(res, stream.chunks[i]))) return;
	}
	if (!breaks) {
		res.end();
		return;
	}
	// Stalled: the connection stays open until the client gives up or the emulator stops.
	if (breaks.then === 'stall') return;
	const wait = waitBefore(count, last + 1, pace);
	if (wait > 0) await delay(wait);
	if (res.destroyed || res.socket?.destroyed !== false) return;
	if (breaks.then === 'cut') {
		s.req.socket.destroy();
		return;
	}
	res.end(breaks.then.event);
}

/**
 * A stream whose first event is cut off part-way and then ends normally: the client finds
 * JSON it cannot parse where the answer should begin.
 */
export function malformedStream(stream: WireStream): WireStream {
	const first = stream.chunks[0];
	const terminator = first.includes('\n\n') ? '\n\n' : '\n';
	const event = first.slice(0, first.indexOf(terminator));
	const lastLine = event.slice(event.lastIndexOf('\n') + 1);
	return {
		headers: stream.headers,
		chunks: [`${event.slice(0, event.length - Math.ceil(lastLine.length / 2))}${terminator}`],
	};
}
