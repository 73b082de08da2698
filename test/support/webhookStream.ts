/**
 * A client of an n8n webhook whose Respond is "Streaming": reads the reply as it arrives (n8n
 * sends one JSON object a line: `begin`, `item` with a piece of text, `end`, or `error`) and
 * notes when the first text came.
 */
export interface StreamedReply {
	status: number;
	/** Milliseconds from sending the request to the first text; undefined when none came. */
	firstTextMs?: number;
	/** Milliseconds from sending the request to the end of the reply, or to the cap. */
	totalMs: number;
	text: string;
	/** Pieces of text, in the order they arrived. */
	pieces: string[];
	/** What `error` lines said, and any line that was not one of n8n's. */
	errors: string[];
	/** The reply had not ended when the wait reached its cap. */
	capped: boolean;
}

interface Line {
	type?: string;
	content?: unknown;
}

function readLine(reply: StreamedReply, raw: string, started: number): void {
	let line: Line;
	try {
		line = JSON.parse(raw) as Line;
	} catch {
		reply.errors.push(raw);
		return;
	}
	if (line.type === 'item' && typeof line.content === 'string' && line.content !== '') {
		reply.firstTextMs ??= performance.now() - started;
		reply.pieces.push(line.content);
		reply.text += line.content;
	} else if (line.type === 'error' || line.type === undefined) {
		reply.errors.push(typeof line.content === 'string' ? line.content : raw);
	}
}

/** POSTs `body` to a streaming webhook and reads its reply, for at most `capMs`. */
export async function streamReply(
	url: string,
	body: unknown,
	capMs: number,
): Promise<StreamedReply> {
	const reply: StreamedReply = {
		status: 0,
		totalMs: 0,
		text: '',
		pieces: [],
		errors: [],
		capped: false,
	};
	const controller = new AbortController();
	const cap = setTimeout(() => {
		reply.capped = true;
		controller.abort();
	}, capMs);
	const started = performance.now();
	try {
		const response = await fetch(url, {
			method: 'POST',
			headers: { 'content-type': 'application/json' },
			body: JSON.stringify(body),
			signal: controller.signal,
		});
		reply.status = response.status;
		const decoder = new TextDecoder();
		let pending = '';
		for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
			pending += decoder.decode(bytes, { stream: true });
			const lines = pending.split('\n');
			pending = lines.pop() ?? '';
			for (const line of lines) if (line.trim()) readLine(reply, line, started);
		}
		if (pending.trim()) readLine(reply, pending, started);
	} catch (error) {
		if (!reply.capped) throw error;
	} finally {
		clearTimeout(cap);
		reply.totalMs = performance.now() - started;
	}
	return reply;
}
