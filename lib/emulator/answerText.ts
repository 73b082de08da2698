/**
 * An answer's text as the emulator cuts it into tokens and chunks, and the text it makes up
 * when pacing asks for an answer of some length and no reply is scripted.
 */
import { drawWhole, hashText, seededRandom } from './pacing';
import type { Range } from './pacing';
import type { WireCall } from '../providers/wireFormat';
import type { StreamPieces, WireAnswer } from './wire';

/** A text's tokens as the emulator counts them: each word with the whitespace before it. */
export function tokensOf(text: string): string[] {
	const tokens: string[] = text.match(/\s*\S+/g) ?? [];
	const rest = text.slice(tokens.join('').length);
	if (rest !== '') {
		if (tokens.length > 0) tokens[tokens.length - 1] += rest;
		else tokens.push(rest);
	}
	return tokens;
}

/** A text in pieces of `size` tokens; joined, they are the text. */
export function piecesOf(text: string, size: number): string[] {
	const tokens = tokensOf(text);
	const pieces: string[] = [];
	for (let i = 0; i < tokens.length; i += size) pieces.push(tokens.slice(i, i + size).join(''));
	return pieces;
}

/** About four characters to a token, as providers count JSON. */
const CHARS_PER_TOKEN = 4;

/**
 * The input tokens the emulator counts for a call: what it reads (prompt, tool text, a
 * continued answer) at four characters to a token, plus a few for the request's framing.
 */
export function inputTokens(call: WireCall): number {
	const read = call.promptText.length + call.conversation.toolText.length;
	return Math.ceil((read + (call.continued ?? '').length) / CHARS_PER_TOKEN) + 3;
}

/** Tool arguments as JSON text, in pieces of about `size` tokens. */
function argumentPieces(args: Record<string, unknown>, size: number): string[] {
	const json = JSON.stringify(args);
	const step = size * CHARS_PER_TOKEN;
	const pieces: string[] = [];
	for (let i = 0; i < json.length; i += step) pieces.push(json.slice(i, i + step));
	return pieces;
}

/** What a stream sends of an answer, `size` tokens to a chunk. */
export function streamPieces(a: WireAnswer, size: number): StreamPieces {
	return {
		text: a.finish === 'empty_output' ? [] : piecesOf(a.text, size),
		toolArguments: a.toolCalls.map((call) => argumentPieces(call.arguments, size)),
	};
}

/** The tokens an answer takes to write: its words and its tool calls' arguments. */
export function answerTokens(a: WireAnswer): number {
	const args = a.toolCalls.reduce((sum, c) => sum + JSON.stringify(c.arguments).length, 0);
	return tokensOf(a.text).length + Math.ceil(args / CHARS_PER_TOKEN);
}

const WORDS = (
	'the a an of to and in on for with from that this it is was be can will may each every ' +
	'order service provider answer model stream token request customer account system team ' +
	'report update result value record message network server client region window minute ' +
	'check send read write keep move start finish wait retry route measure compare explain ' +
	'quick steady clear short long new early late whole partial simple careful useful next'
).split(' ');

/**
 * An answer of `length` words, made up from the seed and the prompt alone: every provider,
 * and every retry, gives the same prompt the same answer, so a continued stream fits.
 */
export function generatedText(seed: number, prompt: string, length: Range): string {
	const random = seededRandom(hashText(`${seed}\n${prompt.trim()}`));
	const count = Math.max(1, drawWhole(length, random));
	const words: string[] = [];
	let sentence = 0;
	for (let i = 0; i < count; i++) {
		let word = WORDS[Math.floor(random() * WORDS.length)];
		if (sentence === 0) word = word[0].toUpperCase() + word.slice(1);
		sentence++;
		const ends = i === count - 1 || (sentence >= 6 && random() < 0.2);
		words.push(ends ? `${word}.` : word);
		if (ends) sentence = 0;
	}
	return words.join(' ');
}
