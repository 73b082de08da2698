/**
 * A conversation that continues a broken stream, as the provider emulator reads it: it ends
 * with the assistant's partial answer, on its own (a prefill) or followed by the instruction
 * to continue. The emulator answers the rest of its answer, so the reader sees one text.
 */
import { CONTINUE_INSTRUCTION } from './messageMapping';

/** How one wire's messages read, for the end of a conversation. */
export interface TurnReader {
	/** A person's message text, or undefined for any other message. */
	userText(message: unknown): string | undefined;
	/** An assistant message's text when it holds text alone (no tool calls), else undefined. */
	answerText(message: unknown): string | undefined;
}

/** A conversation that continues a partial answer. */
export interface Continuation {
	/** The conversation before the partial answer. */
	messages: unknown[];
	/** The partial answer's text. */
	sent: string;
	/** Whether the instruction to continue follows it (else it is the last message: a prefill). */
	instructed: boolean;
}

/** The conversation's partial answer at its end, or undefined when it ends otherwise. */
export function splitContinuation(messages: unknown, reader: TurnReader): Continuation | undefined {
	if (!Array.isArray(messages)) return undefined;
	let end = messages.length;
	const instructed = end > 1 && reader.userText(messages[end - 1]) === CONTINUE_INSTRUCTION;
	if (instructed) end--;
	const sent = reader.answerText(messages[end - 1]);
	if (sent === undefined || sent === '') return undefined;
	return { messages: messages.slice(0, end - 1), sent, instructed };
}
