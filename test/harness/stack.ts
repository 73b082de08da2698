/**
 * Everything the example workflows talk to, on loopback: the provider emulator, the Slack,
 * Jira and SMTP fakes, and n8n with this package, wired together by credentials named as
 * the workflow files expect. The demo and the workflow tests both run on it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import { ProviderEmulator } from '../../lib/emulator/server';
import type { Scenario } from '../../lib/emulator/scenario';
import { JiraFake } from '../support/jiraFake';
import { SlackFake } from '../support/slackFake';
import { SmtpFake } from '../support/smtpFake';
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

/**
 * The credential name each type the examples use is looked up by: the name n8n's credential
 * dialog proposes for a new one (see test/support/credentialNames.ts).
 */
export const CREDENTIAL_NAMES: Record<string, string> = {
	resilientLlmAnthropicApi: 'Resilient LLM: Anthropic account',
	resilientLlmOpenAiApi: 'Resilient LLM: OpenAI account',
	resilientLlmGeminiApi: 'Resilient LLM: Google Gemini account',
	resilientLlmOllamaApi: 'Resilient LLM: Ollama account',
	// n8n's own chat model nodes, on Resilient Chat Model's Model inputs.
	openAiApi: 'OpenAI account',
	groqApi: 'Groq account',
	ollamaApi: 'Ollama account',
	slackApi: 'Slack account',
	smtp: 'SMTP account',
	jiraSoftwareServerApi: 'Jira SW Server account',
};

export interface StackOptions extends N8nOptions {
	/** Use real providers for keys found in the environment (the demo does; tests do not). */
	realProviders?: boolean;
	emulatorPort?: number;
	log?: (line: string) => void;
	/** false: start without credentials, for a test that makes its own. */
	credentials?: boolean;
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

/**
 * Groq Chat Model has no Base URL field: its SDK calls GROQ_BASE_URL, here the emulator, which
 * answers Groq's `/openai/v1/...` paths on OpenAI's wire. n8n picks that node's proxy for
 * api.groq.com whatever the base URL, so that host goes around the Slack fake's proxy.
 */
function groqEnv(
	emulator: ProviderEmulator,
	proxyEnv: Record<string, string>,
): Record<string, string> {
	return {
		GROQ_BASE_URL: emulator.baseUrl,
		NO_PROXY: [proxyEnv.NO_PROXY, 'api.groq.com'].filter(Boolean).join(','),
	};
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
		stack.n8n = await N8n.start({
			...options,
			env: { ...proxyEnv, ...groqEnv(stack.emulator, proxyEnv), ...options.env },
		});
		log(`n8n at ${stack.n8n.baseUrl}`);
		if (options.credentials !== false) await stack.createCredentials();
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

	/**
	 * What a credential of each type the examples use holds here: the emulator's or a real
	 * provider's URL and key, or a fake's address.
	 */
	credentialData(type: string): Record<string, unknown> {
		const urls = this.emulator.urls;
		const provider = (name: keyof typeof REAL_KEY_ENV, realBaseUrl: string) => {
			const key = this.options.realProviders ? process.env[REAL_KEY_ENV[name]] : undefined;
			if (key) {
				if (!this.realProviders.includes(name)) this.realProviders.push(name);
				return { apiKey: key, baseUrl: realBaseUrl };
			}
			return { apiKey: EMULATOR_KEYS[name], baseUrl: urls[name] };
		};
		switch (type) {
			case 'resilientLlmAnthropicApi':
				return provider('anthropic', 'https://api.anthropic.com');
			case 'resilientLlmOpenAiApi':
				return provider('openai', 'https://api.openai.com/v1');
			case 'resilientLlmGeminiApi':
				return provider('gemini', 'https://generativelanguage.googleapis.com');
			case 'resilientLlmOllamaApi':
				return { baseUrl: urls.ollama, apiKey: '' };
			case 'openAiApi': {
				const { apiKey, baseUrl } = provider('openai', 'https://api.openai.com/v1');
				return { apiKey, url: baseUrl };
			}
			case 'groqApi':
				// Its calls go to GROQ_BASE_URL, the emulator's OpenAI wire (see groqEnv).
				return { apiKey: EMULATOR_KEYS.openai };
			case 'ollamaApi':
				return { baseUrl: urls.ollama, apiKey: '' };
			case 'slackApi':
				return { accessToken: 'xoxb-fake-slack-token' };
			case 'smtp':
				return {
					user: 'n8n',
					password: 'fake-smtp-password',
					host: '127.0.0.1',
					port: this.smtp.port,
					secure: false,
					disableStartTls: true,
				};
			case 'jiraSoftwareServerApi':
				return { email: 'n8n-bot', password: 'fake-jira-password', domain: this.jira.url };
			default:
				throw new Error(`the stack has no credential of type ${type}`);
		}
	}

	/** Every credential the examples use, under the names they look them up by. */
	async createCredentials(): Promise<void> {
		for (const [type, name] of Object.entries(CREDENTIAL_NAMES))
			await this.n8n.createCredential(name, type, this.credentialData(type));
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
