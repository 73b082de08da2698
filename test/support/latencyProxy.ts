/**
 * A TCP proxy on 127.0.0.1 that delays every chunk by a fixed time each way, like a server
 * across a network, and counts the round trips its clients make.
 *
 * Round trips are counted causally, not by the clock: a chunk a client sends is one round
 * trip deeper than the deepest reply it had been handed when it sent it. Requests sent
 * together (pipelined, or concurrent on one connection) share a depth; requests that each
 * wait for the previous one's reply add one each.
 */
import { createServer, connect } from 'node:net';
import type { Server, Socket } from 'node:net';

export class LatencyProxy {
	/** The deepest request sent so far: round trips since the proxy started. */
	roundTrips = 0;
	/** The deepest reply handed to a client. */
	private delivered = 0;
	/** The deepest request handed to the server. */
	private forwarded = 0;
	private readonly sockets = new Set<Socket>();
	private cutNextReply = false;

	private constructor(
		private readonly server: Server,
		readonly port: number,
	) {}

	static async start(targetPort: number, delayMs = 100): Promise<LatencyProxy> {
		const proxy: { self?: LatencyProxy } = {};
		const server = createServer((client) => proxy.self!.relay(client, targetPort, delayMs));
		await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
		const address = server.address();
		if (!address || typeof address === 'string') throw new Error('the proxy has no port');
		proxy.self = new LatencyProxy(server, address.port);
		return proxy.self;
	}

	/**
	 * The next reply from the server is not delivered: the client's connection is cut instead,
	 * as when a network drops after the server did the work.
	 */
	cutBeforeNextReply(): void {
		this.cutNextReply = true;
	}

	private relay(client: Socket, targetPort: number, delayMs: number): void {
		const upstream = connect(targetPort, '127.0.0.1');
		this.sockets.add(client).add(upstream);
		const later = (fn: () => void) => setTimeout(fn, delayMs).unref();
		client.on('data', (chunk) => {
			const depth = this.delivered + 1;
			this.roundTrips = Math.max(this.roundTrips, depth);
			later(() => {
				this.forwarded = Math.max(this.forwarded, depth);
				if (!upstream.destroyed) upstream.write(chunk);
			});
		});
		upstream.on('data', (chunk) => {
			const depth = this.forwarded;
			if (this.cutNextReply) {
				this.cutNextReply = false;
				client.destroy();
				upstream.destroy();
				return;
			}
			later(() => {
				this.delivered = Math.max(this.delivered, depth);
				if (!client.destroyed) client.write(chunk);
			});
		});
		const close = () => {
			client.destroy();
			upstream.destroy();
			this.sockets.delete(client);
			this.sockets.delete(upstream);
		};
		client.on('close', close).on('error', close);
		upstream.on('close', close).on('error', close);
	}

	async stop(): Promise<void> {
		for (const socket of this.sockets) socket.destroy();
		await new Promise((resolve) => this.server.close(resolve));
	}
}
