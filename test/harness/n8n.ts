/**
 * A real n8n for end-to-end tests: loopback ports, a throwaway user folder with SQLite, this
 * package installed the way n8n installs community packages, an owner, and an API key.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import {
	createWriteStream,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readFileSync,
	rmSync,
	writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { packedTarball } from './pack';
import { ensureRuntime, n8nEntry, nodeBinary, runtimeDir } from './runtime';

export const PACKAGE_NAME = 'n8n-nodes-resilient-llm';
export const OWNER = {
	email: 'owner@example.test',
	firstName: 'Olive',
	lastName: 'Owner',
	password: 'Owner-passw0rd!',
};

export async function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const server = createServer();
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => {
			const { port } = server.address() as { port: number };
			server.close(() => resolve(port));
		});
	});
}

export interface N8nOptions {
	/** Extra environment for n8n (queue mode, proxies, ...). */
	env?: Record<string, string>;
	/** Reuse a user folder (restarts); a new temporary one otherwise. */
	userFolder?: string;
	port?: number;
	/** How long to wait for readiness. */
	startTimeoutMs?: number;
	/** A command n8n runs under, with its arguments (`setpriv ... --`), e.g. to drop capabilities. */
	runUnder?: string[];
	/**
	 * How the package gets into the user folder: as n8n's Community Nodes page installs it
	 * (the default), or with `npm install` in `.n8n/nodes`, the README's manual way.
	 */
	install?: 'community-nodes' | 'npm';
}

export interface ExecutionItem {
	json: Record<string, unknown>;
	pairedItem?: unknown;
}

export interface NodeRun {
	data?: { main: Array<ExecutionItem[] | null> };
	error?: { message: string; description?: string };
}

export interface Execution {
	id: string;
	finished: boolean;
	status: string;
	mode: string;
	workflowId: string;
	data?: {
		resultData: {
			error?: { message: string; description?: string };
			runData: Record<string, NodeRun[]>;
			lastNodeExecuted?: string;
		};
	};
}

function sleep(ms: number): Promise<void> {
	return new Promise((r) => setTimeout(r, ms));
}

export class N8n {
	private process: N8nProcess | undefined;
	private cookie = '';
	private apiKey = '';
	private logText = '';
	readonly baseUrl: string;

	private constructor(
		readonly userFolder: string,
		readonly port: number,
		private readonly brokerPort: number,
		private readonly options: N8nOptions,
	) {
		this.baseUrl = `http://127.0.0.1:${port}`;
	}

	/** Starts n8n with this package installed; the slow install of n8n itself is cached. */
	static async start(options: N8nOptions = {}): Promise<N8n> {
		ensureRuntime();
		const tarball = packedTarball();
		const userFolder = options.userFolder ?? mkdtempSync(join(tmpdir(), 'resilient-llm-n8n-'));
		mkdirSync(userFolder, { recursive: true });
		// A folder this harness has not signed in to yet gets the package, an owner and a key.
		const fresh = !existsSync(join(userFolder, 'api-key.txt'));
		if (fresh) {
			if (options.install === 'npm') npmInstallPackage(userFolder, tarball);
			else installPackage(userFolder, tarball);
		}
		const n8n = new N8n(userFolder, options.port ?? (await freePort()), await freePort(), options);
		await n8n.launch();
		await n8n.signIn(fresh);
		return n8n;
	}

	private async launch(): Promise<void> {
		const env: Record<string, string> = {
			...processEnv(this.userFolder, this.brokerPort),
			N8N_PORT: String(this.port),
			N8N_LISTEN_ADDRESS: '127.0.0.1',
			N8N_HOST: '127.0.0.1',
			N8N_WEBHOOK_URL: `${this.baseUrl}/`,
			N8N_EDITOR_BASE_URL: `${this.baseUrl}/`,
			N8N_SECURE_COOKIE: 'false',
			N8N_PUBLIC_API_SWAGGERUI_DISABLED: 'true',
			DB_SQLITE_POOL_SIZE: '2',
			...this.options.env,
		};
		this.process = new N8nProcess(
			['start'],
			env,
			this.userFolder,
			'n8n.log',
			(text) => {
				this.logText += text;
			},
			this.options.runUnder,
		);
		await this.process.waitReady(
			`${this.baseUrl}/healthz/readiness`,
			this.options.startTimeoutMs ?? 240_000,
		);
	}

	private async signIn(fresh: boolean): Promise<void> {
		if (fresh) {
			const setup = await fetch(`${this.baseUrl}/rest/owner/setup`, {
				method: 'POST',
				headers: { 'content-type': 'application/json' },
				body: JSON.stringify(OWNER),
			});
			if (!setup.ok) throw new Error(`owner setup failed: ${setup.status} ${await setup.text()}`);
		}
		const login = await fetch(`${this.baseUrl}/rest/login`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify({ emailOrLdapLoginId: OWNER.email, password: OWNER.password }),
		});
		if (!login.ok) throw new Error(`login failed: ${login.status} ${await login.text()}`);
		this.cookie = (login.headers.getSetCookie() ?? []).map((c) => c.split(';')[0]).join('; ');
		const keyFile = join(this.userFolder, 'api-key.txt');
		if (!fresh) {
			this.apiKey = readFileSync(keyFile, 'utf8').trim();
			return;
		}
		const scopes = (await this.rest<string[]>('GET', '/rest/api-keys/scopes')) ?? [];
		const created = await this.rest<{ rawApiKey: string }>('POST', '/rest/api-keys', {
			label: 'tests',
			expiresAt: null,
			scopes,
		});
		this.apiKey = created.rawApiKey;
		writeFileSync(keyFile, this.apiKey);
	}

	/** The internal REST API, as the editor calls it (cookie auth). Returns `data`. */
	async rest<T>(method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<T> {
		const response = await fetch(`${this.baseUrl}${path}`, {
			method,
			headers: { 'content-type': 'application/json', cookie: this.cookie, 'browser-id': 'tests' },
			body: body === undefined ? undefined : JSON.stringify(body),
			signal: AbortSignal.timeout(timeoutMs),
		});
		const text = await response.text();
		if (!response.ok)
			throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 500)}`);
		const parsed = text ? (JSON.parse(text) as { data?: T }) : {};
		return (parsed.data ?? parsed) as T;
	}

	/** The public API (/api/v1, API key auth). */
	async api<T>(method: string, path: string, body?: unknown): Promise<T> {
		const response = await fetch(`${this.baseUrl}/api/v1${path}`, {
			method,
			headers: { 'content-type': 'application/json', 'x-n8n-api-key': this.apiKey },
			body: body === undefined ? undefined : JSON.stringify(body),
			signal: AbortSignal.timeout(60_000),
		});
		const text = await response.text();
		if (!response.ok)
			throw new Error(`${method} /api/v1${path}: ${response.status} ${text.slice(0, 500)}`);
		return (text ? JSON.parse(text) : {}) as T;
	}

	async createCredential(
		name: string,
		type: string,
		data: Record<string, unknown>,
	): Promise<string> {
		const created = await this.api<{ id: string }>('POST', '/credentials', { name, type, data });
		return created.id;
	}

	/** Creates a workflow and activates it, so its production webhooks answer. */
	async createWorkflow(workflow: Record<string, unknown>, activate = true): Promise<string> {
		const { id } = await this.api<{ id: string }>('POST', '/workflows', {
			settings: {
				executionOrder: 'v1',
				saveDataSuccessExecution: 'all',
				saveDataErrorExecution: 'all',
				saveManualExecutions: true,
			},
			...workflow,
		});
		if (activate) {
			await this.api('POST', `/workflows/${id}/activate`);
			// Activation registers webhooks asynchronously in n8n 2.x: wait until each answers.
			const nodes = (workflow.nodes ?? []) as Array<{
				type: string;
				parameters: { path?: string };
			}>;
			for (const node of nodes) {
				if (node.type === 'n8n-nodes-base.webhook' && node.parameters.path)
					await this.waitForWebhook(node.parameters.path);
			}
		}
		return id;
	}

	/**
	 * Polls a POST production webhook with GET: n8n answers "not registered for GET ... Did you
	 * mean to make a POST request?" only once the POST webhook is registered.
	 */
	async waitForWebhook(path: string, timeoutMs = 30_000): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		while (Date.now() < deadline) {
			const response = await fetch(`${this.baseUrl}/webhook/${path}`, {
				signal: AbortSignal.timeout(5_000),
			});
			const text = await response.text();
			if (response.status !== 404 || /Did you mean/.test(text)) return;
			await sleep(100);
		}
		throw new Error(`webhook ${path} was not registered within ${timeoutMs} ms`);
	}

	/** POSTs to a production webhook; returns the status and parsed body. */
	async webhook(
		path: string,
		body: unknown,
		timeoutMs = 120_000,
	): Promise<{ status: number; body: unknown }> {
		const response = await fetch(`${this.baseUrl}/webhook/${path}`, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(body),
			signal: AbortSignal.timeout(timeoutMs),
		});
		const text = await response.text();
		let parsed: unknown = text;
		try {
			parsed = JSON.parse(text);
		} catch {
			// not JSON
		}
		return { status: response.status, body: parsed };
	}

	async executions(workflowId: string, limit = 250): Promise<Execution[]> {
		const list = await this.api<{ data: Execution[] }>(
			'GET',
			`/executions?workflowId=${workflowId}&limit=${limit}`,
		);
		return list.data;
	}

	async execution(id: string): Promise<Execution> {
		return this.api<Execution>('GET', `/executions/${id}?includeData=true`);
	}

	/** Polls an execution until `done` says so; bounded: a stuck execution fails the caller. */
	async executionWhen(
		id: string,
		done: (execution: Execution) => boolean,
		what: string,
		timeoutMs = 120_000,
	): Promise<Execution> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const execution = await this.execution(id);
			if (done(execution)) return execution;
			if (Date.now() > deadline)
				throw new Error(`execution ${id} is ${execution.status}, still waiting for ${what}`);
			await sleep(200);
		}
	}

	/** The newest execution of a workflow, once it has finished (bounded wait). */
	async latestExecution(workflowId: string, timeoutMs = 60_000): Promise<Execution> {
		const deadline = Date.now() + timeoutMs;
		while (Date.now() < deadline) {
			const [latest] = await this.executions(workflowId, 1);
			if (latest && latest.status !== 'running' && latest.status !== 'new')
				return this.execution(latest.id);
			await sleep(200);
		}
		throw new Error(`no finished execution of workflow ${workflowId} within ${timeoutMs} ms`);
	}

	/**
	 * The items a node output (output 0) in each execution of a workflow, oldest execution
	 * first; waits (bounded) until there are at least `atLeast` executions.
	 */
	async nodeOutputs(
		workflowId: string,
		nodeName: string,
		atLeast = 0,
		timeoutMs = 30_000,
	): Promise<Array<Record<string, unknown>[]>> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const list = await this.executions(workflowId);
			if (list.length >= atLeast) {
				const runs = await Promise.all(list.map((e) => this.execution(e.id)));
				return runs
					.sort((a, b) => Number(a.id) - Number(b.id))
					.map((run) =>
						(run.data?.resultData.runData[nodeName]?.[0]?.data?.main[0] ?? []).map(
							(item) => item.json,
						),
					);
			}
			if (Date.now() > deadline)
				throw new Error(
					`${list.length} of ${atLeast} executions of workflow ${workflowId} within ${timeoutMs} ms`,
				);
			await sleep(1_000);
		}
	}

	/** Waits (bounded) until n8n answers ready again, e.g. once its database is back. */
	async waitUntilReady(timeoutMs = 120_000): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		for (;;) {
			const status = await fetch(`${this.baseUrl}/healthz/readiness`, {
				signal: AbortSignal.timeout(5_000),
			}).then(
				(r) => r.status,
				() => 0,
			);
			if (status === 200) return;
			if (Date.now() > deadline) throw new Error(`n8n not ready within ${timeoutMs} ms`);
			await sleep(250);
		}
	}

	/** n8n's log. Lines that are only stack frames are kept; the runtime's own path is shortened. */
	logs(): string {
		return this.logText.split(runtimeDir()).join('<n8n>');
	}

	/** Stops n8n; SIGKILL simulates a crash. The user folder stays until dispose(). */
	async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
		await this.process?.stop(signal);
	}

	/** Starts the same instance again on the same folder and port; SIGKILL simulates a crash. */
	async restart(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
		await this.stop(signal);
		await this.launch();
		await this.signIn(false);
	}

	async dispose(): Promise<void> {
		await this.stop();
		if (!process.env.KEEP_N8N_FOLDER) rmSync(this.userFolder, { recursive: true, force: true });
	}
}

/** One n8n process (`start` or `worker`), its output kept in memory and in a log file. */
export class N8nProcess {
	private text = '';
	private readonly child: ChildProcess;

	constructor(
		args: string[],
		env: Record<string, string>,
		userFolder: string,
		logFile: string,
		onOutput?: (text: string) => void,
		runUnder: string[] = [],
	) {
		const log = createWriteStream(join(userFolder, logFile), { flags: 'a' });
		const [command, ...prefix] = [...runUnder, nodeBinary()];
		this.child = spawn(command, [...prefix, n8nEntry(), ...args], {
			cwd: userFolder,
			env,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
		const capture = (chunk: Buffer) => {
			const text = chunk.toString('utf8');
			this.text += text;
			onOutput?.(text);
			log.write(chunk);
		};
		this.child.stdout?.on('data', capture);
		this.child.stderr?.on('data', capture);
	}

	logs(): string {
		return this.text;
	}

	/** Polls a readiness URL until it answers 200; fails at once if the process exits. */
	async waitReady(url: string, timeoutMs: number): Promise<void> {
		const deadline = Date.now() + timeoutMs;
		while (Date.now() < deadline) {
			if (this.child.exitCode !== null)
				throw new Error(
					`n8n ${this.child.spawnargs[2]} exited with ${this.child.exitCode} while starting:\n${this.text.slice(-3000)}`,
				);
			try {
				const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
				if (response.status === 200) return;
			} catch {
				// not listening yet
			}
			await sleep(500);
		}
		await this.stop();
		throw new Error(`n8n was not ready within ${timeoutMs} ms:\n${this.text.slice(-3000)}`);
	}

	/** SIGTERM (or the given signal; SIGKILL simulates a crash), SIGKILL after 20 s. */
	async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
		const child = this.child;
		// Gone already: exited, or killed by a signal (then exitCode stays null).
		if (child.exitCode !== null || child.signalCode !== null) return;
		const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
		child.kill(signal);
		const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
		await exited;
		clearTimeout(timer);
	}
}

/** Settings every n8n process here shares, main or worker. */
export function processEnv(userFolder: string, brokerPort: number): Record<string, string> {
	return {
		PATH: process.env.PATH ?? '',
		HOME: process.env.HOME ?? '',
		// As users run it. In development mode n8n answers errors, such as a review link opened
		// after its execution ended, with a stack trace naming local files. A test that needs
		// development mode passes NODE_ENV in its options' env.
		NODE_ENV: 'production',
		N8N_USER_FOLDER: userFolder,
		N8N_RUNNERS_BROKER_PORT: String(brokerPort),
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
		N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
		N8N_LOG_LEVEL: 'info',
		N8N_LOG_OUTPUT: 'console',
		N8N_PAYLOAD_SIZE_MAX: '16',
		GENERIC_TIMEZONE: 'UTC',
	};
}

/**
 * The README's manual install: `npm install` in `.n8n/nodes`, which holds the package.json
 * n8n keeps there. npm installs the package's peers that are not optional beside it, as it
 * would for a user.
 */
export function npmInstallPackage(userFolder: string, tarball: string): void {
	const nodesDir = join(userFolder, '.n8n', 'nodes');
	mkdirSync(nodesDir, { recursive: true });
	writeFileSync(
		join(nodesDir, 'package.json'),
		JSON.stringify({ name: 'installed-nodes', private: true, dependencies: {} }, null, 2),
	);
	execFileSync(
		'npm',
		['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
		{ cwd: nodesDir, stdio: ['ignore', 'ignore', 'inherit'], timeout: 600_000 },
	);
}

/** What n8n's own installer does: unpack into .n8n/nodes, drop dev/peer/optional dependencies. */
export function installPackage(userFolder: string, tarball: string): void {
	const nodesDir = join(userFolder, '.n8n', 'nodes');
	const target = join(nodesDir, 'node_modules', PACKAGE_NAME);
	mkdirSync(target, { recursive: true });
	execFileSync('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
	const manifestPath = join(target, 'package.json');
	const { devDependencies, peerDependencies, optionalDependencies, ...manifest } = JSON.parse(
		readFileSync(manifestPath, 'utf8'),
	) as Record<string, unknown>;
	void devDependencies;
	void peerDependencies;
	void optionalDependencies;
	writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
	writeFileSync(
		join(nodesDir, 'package.json'),
		JSON.stringify(
			{
				name: 'installed-nodes',
				private: true,
				dependencies: { [PACKAGE_NAME]: manifest.version },
			},
			null,
			2,
		),
	);
}
