/** What the emulator sends for a model call once its scenario has decided. */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { WireAnswer, WireCall } from '../providers/wireFormat';
import { delay, drip, send, sendHalf, sendMalformed, sendNdjson, sendProxyPage } from './http';
import type { Verdict } from './scenarioState';
import type { PromptCount } from './tally';
import { HTTP_FAULTS } from './wire';
import type { Finish, HttpFault, ProviderWire } from './wire';

const REFUSAL_TEXT = "I can't help with that request.";
const NOT_JSON_TEXT = 'Sure! Here is what you asked for, in plain words rather than JSON.';

/** One model call in flight: its request, response, wire and what was read from it. */
export interface Exchange {
	req: IncomingMessage;
	res: ServerResponse;
	wire: ProviderWire;
	call: WireCall;
	requestId: string;
	/** The scenario's reply template, if it has one. */
	replyTemplate?: string;
	/** Where the call's prompt counts its full answers. */
	promptCount: PromptCount;
	/** Counts an answer as sent to its provider and model. */
	counted: () => void;
}

function isHttpFault(fault: string): fault is HttpFault {
	return (HTTP_FAULTS as readonly string[]).includes(fault);
}

function defaultReply(x: Exchange): string {
	const { wire, call } = x;
	if (x.replyTemplate !== undefined) {
		return x.replyTemplate
			.replaceAll('{provider}', wire.name)
			.replaceAll('{model}', call.model)
			.replaceAll('{prompt}', call.promptText);
	}
	if (call.wantsJson)
		return JSON.stringify({ answer: `Emulated answer from ${wire.name}/${call.model}.` });
	return `Emulated answer from ${wire.name}/${call.model}.`;
}

/** The 200 answer's text, tool calls and usage, as the verdict shapes them. */
function answerFor(x: Exchange, verdict: Verdict): WireAnswer {
	const { call, requestId } = x;
	const transport = verdict.fault === 'drop_mid_body' || verdict.fault === 'slow_drip';
	const finish = (verdict.fault === 'ok' || transport ? 'stop' : verdict.fault) as Finish;
	// A scripted turn answers a normal call; an unusable answer (an output fault) is text only.
	const turn = finish === 'stop' ? verdict.turn : undefined;
	let text = turn ? (turn.reply ?? '') : (verdict.reply ?? defaultReply(x));
	if (finish === 'refused') text = REFUSAL_TEXT;
	if (finish === 'invalid_output') text = NOT_JSON_TEXT;
	if (finish === 'truncated') text = `${text.slice(0, Math.max(8, Math.floor(text.length / 2)))}`;
	const toolCalls = (turn?.toolCalls ?? []).map((scripted, i) => ({
		id: `${x.wire.toolCallIdPrefix}_${requestId.slice(4)}_${i}`,
		name: scripted.name,
		arguments: scripted.arguments ?? {},
	}));
	const usage = {
		input: Math.ceil((call.promptText.length + call.conversation.toolText.length) / 4) + 3,
		output: Math.max(1, Math.ceil((text.length + JSON.stringify(toolCalls).length - 2) / 4)),
	};
	return { model: call.model, text, finish, usage, requestId, toolCalls };
}

/** Answers as the verdict says: a transport fault, an HTTP error, or a 200 answer. */
export async function answer(x: Exchange, verdict: Verdict): Promise<void> {
	const { req, res } = x;
	if (verdict.fault === 'hang') return; // never answer; the client's timeout must act
	if (verdict.latencyMs > 0) await delay(verdict.latencyMs);
	if (verdict.fault === 'drop') {
		req.socket.destroy();
		return;
	}
	if (verdict.fault === 'malformed') return sendMalformed(res);
	if (verdict.fault === 'proxy_html_502') return sendProxyPage(res);
	if (isHttpFault(verdict.fault)) {
		const { model } = x.call;
		const options = { model, requestId: x.requestId, retryAfterS: verdict.retryAfterS };
		return send(res, x.wire.error(verdict.fault, options));
	}
	const response = x.wire.success(answerFor(x, verdict));
	// A usable answer counts once its last byte is handed to the socket: one the client could read.
	if (verdict.fault === 'ok' || verdict.fault === 'slow_drip')
		res.once('finish', () => x.promptCount.answered++);
	if (verdict.fault === 'drop_mid_body') return sendHalf(req, res, response);
	// An answer counts as sent when its last byte is handed over, before the client can have it.
	if (verdict.fault === 'slow_drip')
		return drip(res, response, verdict.dripSeconds ?? 30, x.counted);
	if (verdict.fault === 'ok') x.counted();
	if (x.call.ndjson) return sendNdjson(res, response);
	send(res, response);
}
