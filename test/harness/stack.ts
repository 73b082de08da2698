/**
 * Everything the example workflows talk to, on loopback: the provider emulator, the Slack,
 * Jira and SMTP fakes, and n8n with this package, wired together by credentials named as
 * the workflow files expect. The demo and the workflow tests both run on it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { ProviderEmulator } from '../../lib/emulator/server';
import type { Scenario } from '../../lib/emulator/scenario';
import { JiraFake } from '../fakes/jira';
import { SlackFake } from '../fakes/slack';
import { SmtpFake } from '../fakes/smtp';
import { N8n } from './n8n';
import type { N8nOptions } from './n8n';
import { ROOT } from './pack';

export const WORKFLOW_DIR = join(ROOT, 'workflows');

/** Keys the emulator accepts; they only open the emulator. */
export const EMULATOR_KEYS = {
	anthropic: 'emulator-anthropic-key',
	openai: 'emulator-openai-key',
	gemini: 'emulator-gemini-key',
	ollama: '',
};

/** Real providers replace the emulator for the ones whose key is in the environment. */
export const REAL_KEY_ENV = {
	anthropic: 'ANTHROPIC_API_KEY',
	openai: 'OPENAI_API_KEY',
	gemini: 'GEMINI_API_KEY',
} as const;

export interface StackOptions extends N8nOptions {
	/** Use real providers for keys found in the environment (the demo does; tests do not). */
	realProviders?: boolean;
	emulatorPort?: number;
	log?: (line: string) => void;
}

export interface WorkflowFile {
	file: string;
	name: string;
	json: Record<string, unknown>;
}

export function workflowFiles(): WorkflowFile[] {
	return readdirSync(WORKFLOW_DIR)
		.filter((f) => f.endsWith('.json'))
		.sort()
		.map((file) => {
			const json = JSON.parse(readFileSync(join(WORKFLOW_DIR, file), 'utf8')) as Record<
				string,
				unknown
			>;
			return { file, name: String(json.name), json };
		});
}

export class Stack {
	readonly emulator: ProviderEmulator;
	readonly slack = new SlackFake();
	readonly jira = new JiraFake();
	readonly smtp = new SmtpFake();
	n8n!: N8n;
	/** Providers answered by real APIs instead of the emulator. */
	readonly realProviders: string[] = [];

	private constructor(private readonly options: StackOptions) {
		this.emulator = new ProviderEmulator({ port: options.emulatorPort ?? 0 });
	}

	static async start(options: StackOptions = {}): Promise<Stack> {
		const stack = new Stack(options);
		const log = options.log ?? (() => undefined);
		await stack.emulator.start();
		log(`provider emulator at ${stack.emulator.baseUrl}`);
		const proxyEnv = await stack.slack.start();
		log(`Slack fake (HTTPS proxy) at ${stack.slack.url}`);
		await stack.jira.start();
		log(`Jira fake at ${stack.jira.url}`);
		await stack.smtp.start();
		log(`SMTP server at 127.0.0.1:${stack.smtp.port}`);
		stack.n8n = await N8n.start({ ...options, env: { ...proxyEnv, ...options.env } });
		log(`n8n at ${stack.n8n.baseUrl}`);
		await stack.createCredentials();
		return stack;
	}

	setScenario(scenario: Scenario): void {
		this.emulator.loadScenario({
			apiKeys: {
				anthropic: EMULATOR_KEYS.anthropic,
				openai: EMULATOR_KEYS.openai,
				gemini: EMULATOR_KEYS.gemini,
			},
			...scenario,
		});
	}

	/** Credentials under the names the workflow files use, pointing at the emulator and the fakes. */
	private async createCredentials(): Promise<void> {
		const urls = this.emulator.urls;
		const provider = (name: keyof typeof REAL_KEY_ENV, realBaseUrl: string) => {
			const key = this.options.realProviders ? process.env[REAL_KEY_ENV[name]] : undefined;
			if (key) {
				this.realProviders.push(name);
				return { apiKey: key, baseUrl: realBaseUrl };
			}
			return { apiKey: EMULATOR_KEYS[name], baseUrl: urls[name] };
		};
		const credentials: Array<[string, string, Record<string, unknown>]> = [
			[
				'Resilient LLM: Anthropic',
				'resilientLlmAnthropicApi',
				provider('anthropic', 'https://api.anthropic.com'),
			],
			[
				'Resilient LLM: OpenAI',
				'resilientLlmOpenAiApi',
				provider('openai', 'https://api.openai.com/v1'),
			],
			[
				'Resilient LLM: Gemini',
				'resilientLlmGeminiApi',
				provider('gemini', 'https://generativelanguage.googleapis.com'),
			],
			['Resilient LLM: Ollama', 'resilientLlmOllamaApi', { baseUrl: urls.ollama, apiKey: '' }],
			['Slack bot', 'slackApi', { accessToken: 'xoxb-fake-slack-token' }],
			[
				'Reviewer mailbox (SMTP)',
				'smtp',
				{
					user: 'n8n',
					password: 'fake-smtp-password',
					host: '127.0.0.1',
					port: this.smtp.port,
					secure: false,
					disableStartTls: true,
				},
			],
			[
				'Jira (ops)',
				'jiraSoftwareServerApi',
				{ email: 'n8n-bot', password: 'fake-jira-password', domain: this.jira.url },
			],
		];
		for (const [name, type, data] of credentials) await this.n8n.createCredential(name, type, data);
	}

	/** Imports a workflow file as the editor's paste would, activates it, and returns its id. */
	async importWorkflow(file: WorkflowFile): Promise<string> {
		const { name, nodes, connections, settings } = file.json;
		return this.n8n.createWorkflow({ name, nodes, connections, settings });
	}

	async stop(): Promise<void> {
		await this.n8n?.dispose();
		await Promise.allSettled([
			this.emulator.stop(),
			this.slack.stop(),
			this.jira.stop(),
			this.smtp.stop(),
		]);
	}
}
