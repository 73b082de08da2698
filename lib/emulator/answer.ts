/** What the emulator sends for a model call once its scenario has decided. */
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { WireAnswer, WireCall } from '../providers/wireFormat';
import { answerTokens, generatedText, inputTokens, streamPieces } from './answerText';
import {
	delay,
	drip,
	dripBytes,
	send,
	sendHalf,
	sendHeadersOnly,
	sendMalformed,
	sendProxyPage,
} from './http';
import type { Pace } from './pacing';
import type { Fault } from './scenario';
import type { Verdict } from './scenarioState';
import { chunksBefore, malformedStream, sendStream } from './stream';
import type { StreamBreak } from './stream';
import type { PromptCount } from './tally';
import { HTTP_FAULTS, OUTPUT_FAULTS } from './wire';
import type { Finish, HttpFault, ProviderWire, WireStream } from './wire';

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
	/**
	 * Charges the answer's output tokens (0 for an error) to the call's rate limits and puts
	 * their headers on the response: once, before anything is written.
	 */
	charge: (outputTokens: number) => void;
}

/** The HTTP error a fault answers with: an error class, or a stream fault on a call not streamed. */
function httpFaultOf(fault: Fault, streamed: boolean): HttpFault | undefined {
	if ((HTTP_FAULTS as readonly string[]).includes(fault)) return fault as HttpFault;
	if (streamed) return undefined;
	if (fault === 'stream_error') return 'server_error';
	if (fault === 'stream_overloaded') return 'overloaded';
	return undefined;
}

function defaultReply(x: Exchange, pace: Pace | undefined): string {
	const { wire, call } = x;
	if (x.replyTemplate !== undefined) {
		return x.replyTemplate
			.replaceAll('{provider}', wire.name)
			.replaceAll('{model}', call.model)
			.replaceAll('{prompt}', call.promptText);
	}
	if (call.wantsJson)
		return JSON.stringify({ answer: `Emulated answer from ${wire.name}/${call.model}.` });
	if (pace?.answerTokens !== undefined)
		return generatedText(pace.seed, call.promptText, pace.answerTokens);
	return `Emulated answer from ${wire.name}/${call.model}.`;
}

/** The 200 answer's text, tool calls and usage, as the verdict shapes them. */
function answerFor(x: Exchange, verdict: Verdict): WireAnswer {
	const { call, requestId } = x;
	const finish: Finish = (OUTPUT_FAULTS as readonly string[]).includes(verdict.fault)
		? (verdict.fault as Finish)
		: 'stop';
	// A scripted turn answers a normal call; an unusable answer (an output fault) is text only.
	const turn = finish === 'stop' ? verdict.turn : undefined;
	let text = turn ? (turn.reply ?? '') : (verdict.reply ?? defaultReply(x, verdict.pace));
	if (finish === 'refused') text = REFUSAL_TEXT;
	if (finish === 'invalid_output') text = NOT_JSON_TEXT;
	if (finish === 'truncated') text = `${text.slice(0, Math.max(8, Math.floor(text.length / 2)))}`;
	// A continued answer: only the rest of what was cut off.
	const sent = call.continued ?? '';
	if (sent !== '' && text.startsWith(sent)) text = text.slice(sent.length);
	const toolCalls = (turn?.toolCalls ?? []).map((scripted, i) => ({
		id: `${x.wire.toolCallIdPrefix}_${requestId.slice(4)}_${i}`,
		name: scripted.name,
		arguments: scripted.arguments ?? {},
	}));
	const usage = {
		input: inputTokens(call),
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
	if (verdict.fault === 'proxy_html_502') return sendProxyPage(res);
	const httpFault = httpFaultOf(verdict.fault, x.call.stream);
	if (httpFault) {
		const { model } = x.call;
		const options = { model, requestId: x.requestId, retryAfterS: verdict.retryAfterS };
		x.charge(0);
		return send(res, x.wire.error(httpFault, options));
	}
	const reply = answerFor(x, verdict);
	x.charge(reply.usage.output);
	if (x.call.stream) return streamAnswer(x, verdict, reply);
	return wholeAnswer(x, verdict, reply);
}

/** A whole answer, after the time its tokens take when paced. */
async function wholeAnswer(x: Exchange, verdict: Verdict, reply: WireAnswer): Promise<void> {
	const { req, res } = x;
	if (verdict.fault === 'malformed') return sendMalformed(res);
	const pace = verdict.pace;
	if (pace) await delay(pace.firstTokenMs + answerTokens(reply) * pace.msPerToken);
	const response = x.wire.success(reply);
	if (verdict.fault === 'stream_stall') return sendHeadersOnly(res, response);
	// A usable answer counts once its last byte is handed to the socket: one the client could read.
	if (verdict.fault === 'ok' || verdict.fault === 'slow_drip')
		res.once('finish', () => x.promptCount.answered++);
	if (verdict.fault === 'drop_mid_body' || verdict.fault === 'stream_cut')
		return sendHalf(req, res, response);
	// An answer counts as sent when its last byte is handed over, before the client can have it.
	if (verdict.fault === 'slow_drip')
		return drip(res, response, verdict.dripSeconds ?? 30, x.counted);
	if (verdict.fault === 'ok') x.counted();
	send(res, response);
}

/** Where the verdict's fault breaks a stream of `total` chunks, if it does. */
function breakOf(x: Exchange, verdict: Verdict, total: number): StreamBreak | undefined {
	const after = chunksBefore(total, verdict.afterChunks, verdict.afterShare);
	switch (verdict.fault) {
		case 'drop_mid_body':
			return { after: chunksBefore(total), then: 'cut' };
		case 'stream_cut':
			return { after, then: 'cut' };
		case 'stream_stall':
			return { after, then: 'stall' };
		case 'stream_error':
		case 'stream_overloaded': {
			const fault = verdict.fault === 'stream_error' ? 'server_error' : 'overloaded';
			const options = { model: x.call.model, requestId: x.requestId };
			return { after, then: { event: x.wire.streamError(fault, options) } };
		}
	}
	return undefined;
}

/** A streamed answer, in the wire's events, paced and broken as the verdict says. */
function streamAnswer(x: Exchange, verdict: Verdict, reply: WireAnswer): Promise<void> | void {
	const { req, res } = x;
	const pace = verdict.pace;
	let stream: WireStream = x.wire.stream(
		reply,
		streamPieces(reply, pace?.chunkTokens ?? 1),
		x.call,
	);
	const usable = verdict.fault === 'ok' || verdict.fault === 'slow_drip';
	if (usable) res.once('finish', () => x.promptCount.answered++);
	if (verdict.fault === 'slow_drip') {
		const text = stream.chunks.join('');
		return dripBytes(res, 200, stream.headers, text, verdict.dripSeconds ?? 30, x.counted);
	}
	if (verdict.fault === 'malformed') stream = malformedStream(stream);
	const breaks = breakOf(x, verdict, stream.chunks.length);
	return sendStream({ req, res, stream, pace, breaks }, usable ? x.counted : () => undefined);
}
