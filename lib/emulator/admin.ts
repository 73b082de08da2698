/** The emulator's admin endpoints under /_emulator/: health, counters, calls received, the scenario. */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { readBody, sendJson } from './http';
import { ScenarioError } from './scenario';
import type { Rule, Scenario } from './scenario';
import type { EmulatorStats, ReceivedCall } from './tally';

/** What the admin endpoints read and change. */
export interface Administered {
	readonly scenario: Scenario;
	stats(): EmulatorStats;
	received(): ReceivedCall[];
	resetCounts(): void;
	loadScenario(scenario: unknown): void;
	addRules(rules: Rule[]): void;
}

async function route(
	target: Administered,
	req: IncomingMessage,
	res: ServerResponse,
	name: string,
): Promise<boolean> {
	switch (name) {
		case 'GET /_emulator/health':
			sendJson(res, 200, { ok: true });
			return true;
		case 'GET /_emulator/stats':
			sendJson(res, 200, target.stats());
			return true;
		case 'GET /_emulator/requests':
		case 'GET /_emulator/calls':
			sendJson(res, 200, target.received());
			return true;
		case 'POST /_emulator/reset':
			target.resetCounts();
			sendJson(res, 200, target.stats());
			return true;
		case 'GET /_emulator/scenario':
			sendJson(res, 200, target.scenario);
			return true;
		case 'PUT /_emulator/scenario':
		case 'POST /_emulator/scenario':
			target.loadScenario(JSON.parse(await readBody(req)));
			sendJson(res, 200, target.scenario);
			return true;
		case 'POST /_emulator/rules': {
			const parsed = JSON.parse(await readBody(req)) as { rules?: Rule[] } | Rule[];
			target.addRules(Array.isArray(parsed) ? parsed : (parsed.rules ?? []));
			sendJson(res, 200, target.scenario);
			return true;
		}
	}
	return false;
}

export async function admin(
	target: Administered,
	req: IncomingMessage,
	res: ServerResponse,
	url: URL,
): Promise<void> {
	const name = `${req.method} ${url.pathname}`;
	try {
		if (await route(target, req, res, name)) return;
	} catch (error) {
		const message =
			error instanceof ScenarioError || error instanceof SyntaxError
				? error.message
				: String(error);
		return sendJson(res, 400, { error: message });
	}
	sendJson(res, 404, { error: `no admin route ${name}` });
}
