#!/usr/bin/env node
/**
 * resilient-llm-emulator [--port N] [--host H] [--scenario FILE] [--profile instant|realistic]
 * Prints the base URL on its first line, then each provider's base URL; runs until stopped.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { PROFILES } from './pacing';
import type { Profile } from './pacing';
import { ProviderEmulator } from './server';

const USAGE =
	'usage: resilient-llm-emulator [--port N] [--host 127.0.0.1] [--scenario FILE] [--profile instant|realistic]';

async function main(): Promise<void> {
	const { values } = parseArgs({
		options: {
			port: { type: 'string', default: '0' },
			host: { type: 'string', default: '127.0.0.1' },
			scenario: { type: 'string' },
			profile: { type: 'string', default: 'instant' },
			help: { type: 'boolean', default: false },
		},
	});
	if (values.help) {
		process.stdout.write(`${USAGE}\n`);
		return;
	}
	const port = Number(values.port);
	if (!Number.isInteger(port) || port < 0 || port > 65535)
		throw new Error(`--port must be 0..65535, got ${values.port}`);
	const profile = values.profile as Profile;
	if (!PROFILES.includes(profile))
		throw new Error(`--profile must be one of ${PROFILES.join(', ')}, got ${values.profile}`);
	let scenario: unknown = {};
	if (values.scenario) {
		try {
			scenario = JSON.parse(readFileSync(values.scenario, 'utf8'));
		} catch (error) {
			throw new Error(
				`cannot read scenario ${values.scenario}: ${error instanceof Error ? error.message : String(error)}`,
			);
		}
	}
	const emulator = new ProviderEmulator({
		port,
		host: values.host,
		scenario: scenario as never,
		profile,
	});
	const url = await emulator.start();
	const urls = emulator.urls;
	process.stdout.write(
		`${url}\n` +
			`anthropic ${urls.anthropic}\nopenai ${urls.openai}\ngemini ${urls.gemini}\nollama ${urls.ollama}\n` +
			`admin ${url}/_emulator/stats (GET), ${url}/_emulator/scenario (PUT), ${url}/_emulator/rules (POST)\n`,
	);
	const stop = () => {
		void emulator.stop().then(() => process.exit(0));
	};
	process.on('SIGINT', stop);
	process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
	process.stderr.write(
		`resilient-llm-emulator: ${error instanceof Error ? error.message : String(error)}\n`,
	);
	process.exit(1);
});
