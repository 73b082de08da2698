/**
 * A throwaway PostgreSQL (Debian's `postgresql` package) on a loopback port, for n8n's queue
 * mode. The cluster lives in a temporary folder and is deleted on stop.
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import {
	chownSync,
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	readFileSync,
	rmSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { freePort } from './n8n';

/** The newest Debian cluster binaries, or PG_BINDIR, or whatever is on PATH. */
function binDir(): string {
	if (process.env.PG_BINDIR) return process.env.PG_BINDIR;
	const root = '/usr/lib/postgresql';
	if (existsSync(root)) {
		const versions = readdirSync(root)
			.filter((v) => existsSync(join(root, v, 'bin', 'postgres')))
			.sort((a, b) => Number(b) - Number(a));
		if (versions.length > 0) return join(root, versions[0], 'bin');
	}
	return '';
}

function binary(name: string): string {
	const dir = binDir();
	return dir ? join(dir, name) : name;
}

/** PostgreSQL refuses to run as root: as root, the cluster runs as Debian's `postgres` user. */
function asServerUser(command: string, args: string[]): [string, string[]] {
	if (process.getuid?.() !== 0) return [command, args];
	return ['runuser', ['-u', 'postgres', '--', command, ...args]];
}

export class PostgresServer {
	readonly user = 'postgres';
	readonly database = 'postgres';
	private log = '';

	private child: ChildProcess | undefined;

	private constructor(
		private readonly folder: string,
		readonly port: number,
	) {}

	static async start(): Promise<PostgresServer> {
		const folder = mkdtempSync(join(tmpdir(), 'resilient-llm-pg-'));
		const data = join(folder, 'data');
		const sockets = join(folder, 'sockets');
		mkdirSync(sockets);
		if (process.getuid?.() === 0) {
			const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
			const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
			chownSync(folder, uid, gid);
			chownSync(sockets, uid, gid);
		}
		try {
			const [initdb, initArgs] = asServerUser(binary('initdb'), [
				'-D',
				data,
				'-U',
				'postgres',
				'--auth=trust',
				'-E',
				'UTF8',
				'--no-locale',
				'--no-sync',
			]);
			execFileSync(initdb, initArgs, { stdio: 'pipe' });
		} catch (error) {
			rmSync(folder, { recursive: true, force: true });
			throw new Error(
				`initdb failed (is Debian's postgresql installed?): ${(error as Error).message}`,
			);
		}
		const port = await freePort();
		const server = new PostgresServer(folder, port);
		try {
			await server.launch();
		} catch (error) {
			rmSync(folder, { recursive: true, force: true });
			throw error;
		}
		return server;
	}

	/** Runs the postmaster on the cluster and waits until it accepts connections. */
	private async launch(): Promise<void> {
		// A test database: durability is traded for speed.
		const [postgres, args] = asServerUser(binary('postgres'), [
			'-D',
			join(this.folder, 'data'),
			'-p',
			String(this.port),
			'-h',
			'127.0.0.1',
			'-k',
			join(this.folder, 'sockets'),
			'-c',
			'fsync=off',
			'-c',
			'synchronous_commit=off',
			'-c',
			'full_page_writes=off',
			'-c',
			'max_connections=200',
		]);
		const child = spawn(postgres, args, { stdio: ['ignore', 'pipe', 'pipe'] });
		this.child = child;
		const from = this.log.length;
		const capture = (chunk: Buffer) => (this.log += chunk.toString('utf8'));
		child.stdout?.on('data', capture);
		child.stderr?.on('data', capture);
		const deadline = Date.now() + 20_000;
		while (Date.now() < deadline) {
			if (child.exitCode !== null)
				throw new Error(`postgres exited with ${child.exitCode}:\n${this.log.slice(-2000)}`);
			if (this.log.includes('ready to accept connections', from)) return;
			await new Promise((r) => setTimeout(r, 50));
		}
		await this.shutDown('SIGINT');
		throw new Error(`postgres did not start within 20 s:\n${this.log.slice(-2000)}`);
	}

	/** n8n's settings for this database. */
	n8nEnv(): Record<string, string> {
		return {
			DB_TYPE: 'postgresdb',
			DB_POSTGRESDB_HOST: '127.0.0.1',
			DB_POSTGRESDB_PORT: String(this.port),
			DB_POSTGRESDB_DATABASE: this.database,
			DB_POSTGRESDB_USER: this.user,
			DB_POSTGRESDB_PASSWORD: '',
		};
	}

	/**
	 * Stops the server and starts it again on the same data and port, as an operator's restart
	 * (SIGINT, PostgreSQL's "fast" shutdown: sessions are cut off) or after a crash (SIGQUIT,
	 * "immediate": no shutdown checkpoint, crash recovery on start). Clients lose their
	 * connections either way. `whileDown` runs while nothing listens on the port.
	 */
	async restart(
		signal: 'SIGINT' | 'SIGQUIT' = 'SIGINT',
		whileDown?: () => Promise<void>,
	): Promise<void> {
		await this.shutDown(signal);
		await whileDown?.();
		await this.launch();
	}

	async stop(): Promise<void> {
		await this.shutDown('SIGINT');
		rmSync(this.folder, { recursive: true, force: true });
	}

	private async shutDown(signal: NodeJS.Signals): Promise<void> {
		// runuser does not pass signals on, so the postmaster is signalled by its own pid.
		const pid = postmasterPid(this.folder);
		if (pid !== undefined) {
			try {
				process.kill(pid, signal);
				for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
				if (alive(pid)) process.kill(pid, 'SIGKILL');
			} catch {
				// already gone
			}
		}
		const child = this.child;
		if (child && child.exitCode === null && child.signalCode === null) {
			const exited = new Promise((r) => child.once('exit', r));
			child.kill('SIGKILL');
			await exited;
		}
	}
}

function postmasterPid(folder: string): number | undefined {
	try {
		const pid = Number(readFileSync(join(folder, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
		return Number.isInteger(pid) && pid > 0 ? pid : undefined;
	} catch {
		return undefined;
	}
}

function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}
