/** A throwaway redis-server (Debian's) on a loopback port, for tests. */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';

import { freePort } from './n8n';

export class RedisServer {
	private constructor(
		private readonly child: ChildProcess,
		readonly port: number,
	) {}

	/** On a free port, or on `port` again to bring a stopped server back where clients expect it. */
	static async start(port?: number): Promise<RedisServer> {
		port ??= await freePort();
		const child = spawn(
			process.env.REDIS_SERVER ?? 'redis-server',
			[
				'--port',
				String(port),
				'--bind',
				'127.0.0.1',
				'--save',
				'',
				'--appendonly',
				'no',
				'--daemonize',
				'no',
			],
			{ stdio: 'ignore' },
		);
		const server = new RedisServer(child, port);
		const deadline = Date.now() + 10_000;
		while (Date.now() < deadline) {
			if (child.exitCode !== null)
				throw new Error(
					`redis-server exited with ${child.exitCode} (is Debian's redis-server installed?)`,
				);
			if (await server.answers()) return server;
			await new Promise((r) => setTimeout(r, 50));
		}
		child.kill('SIGKILL');
		throw new Error('redis-server did not start within 10 s');
	}

	private answers(): Promise<boolean> {
		return new Promise((resolve) => {
			const socket = connect(this.port, '127.0.0.1');
			socket.once('connect', () => socket.write('PING\r\n'));
			socket.once('data', (data) => {
				socket.destroy();
				resolve(data.toString().startsWith('+PONG'));
			});
			socket.once('error', () => resolve(false));
		});
	}

	/** SIGTERM; SIGKILL simulates a crash (no shutdown, every connection cut at once). */
	async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
		if (this.child.exitCode !== null || this.child.signalCode !== null) return;
		const exited = new Promise((r) => this.child.once('exit', r));
		this.child.kill(signal);
		await exited;
	}
}
