/**
 * A fake order service on loopback for the support agent's two tools: an order lookup and a
 * refund request. It counts every call, so a test can tell a tool ran exactly once.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';

import { freePort } from '../harness/n8n';

export interface OrderServiceCall {
	path: string;
	method: string;
	query: Record<string, string>;
}

export class OrderService {
	readonly calls: OrderServiceCall[] = [];
	private server: Server | undefined;
	baseUrl = '';

	async start(port?: number): Promise<void> {
		const listenPort = port ?? (await freePort());
		this.server = createServer((request, response) => {
			const url = new URL(request.url ?? '/', 'http://127.0.0.1');
			this.calls.push({
				path: url.pathname,
				method: request.method ?? 'GET',
				query: Object.fromEntries(url.searchParams),
			});
			response.setHeader('content-type', 'application/json');
			const order = /^\/orders\/([^/]+)$/.exec(url.pathname);
			if (order) {
				response.end(
					JSON.stringify({
						orderId: decodeURIComponent(order[1]),
						status: 'delivered late',
						total: 42.5,
					}),
				);
				return;
			}
			if (url.pathname === '/refunds') {
				response.end(
					JSON.stringify({
						refundId: `R-${this.count('/refunds')}`,
						orderId: url.searchParams.get('orderId'),
						status: 'requested',
					}),
				);
				return;
			}
			response.statusCode = 404;
			response.end(JSON.stringify({ error: 'not found' }));
		});
		await new Promise<void>((resolve) => this.server?.listen(listenPort, '127.0.0.1', resolve));
		this.baseUrl = `http://127.0.0.1:${listenPort}`;
	}

	/** Calls whose path starts with `prefix`. */
	count(prefix: string): number {
		return this.calls.filter((c) => c.path.startsWith(prefix)).length;
	}

	reset(): void {
		this.calls.length = 0;
	}

	async stop(): Promise<void> {
		await new Promise<void>((resolve) =>
			this.server ? this.server.close(() => resolve()) : resolve(),
		);
	}
}
