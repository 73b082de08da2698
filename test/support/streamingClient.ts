/**
 * The caller of a webhook in Response Mode "Streaming": reads n8n's chunks (one JSON object a
 * line) as they arrive, and notes with each what `observe` said at that moment, so a test can
 * tell what had happened elsewhere (the emulator's answers, say) when a chunk came in.
 */
export interface ReceivedChunk<T = number> {
	type: string;
	content?: string;
	metadata?: { nodeName?: string; itemIndex?: number; runIndex?: number };
	/** What `observe` returned when the chunk arrived. */
	observed: T;
}

/**
 * Fails when the reply takes longer than `timeoutMs`; with `stopAfterMs`, stops reading at
 * that time instead, keeping what arrived (`stopped`).
 */
export async function streamWebhook<T>(
	url: string,
	body: unknown,
	observe: () => T,
	timeoutMs = 120_000,
	stopAfterMs?: number,
): Promise<{ status: number; chunks: Array<ReceivedChunk<T>>; stopped: boolean }> {
	const stop = new AbortController();
	let stopped = false;
	const timer =
		stopAfterMs === undefined
			? undefined
			: setTimeout(() => {
					stopped = true;
					stop.abort();
				}, stopAfterMs);
	const chunks: Array<ReceivedChunk<T>> = [];
	let status = 0;
	try {
		status = await read(
			url,
			body,
			observe,
			chunks,
			AbortSignal.any([AbortSignal.timeout(timeoutMs), stop.signal]),
		);
	} catch (error) {
		if (!stopped) throw error;
	} finally {
		clearTimeout(timer);
	}
	return { status, chunks, stopped };
}

/** Reads the reply into `chunks` as it arrives; its status. */
async function read<T>(
	url: string,
	body: unknown,
	observe: () => T,
	chunks: Array<ReceivedChunk<T>>,
	signal: AbortSignal,
): Promise<number> {
	const response = await fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body),
		signal,
	});
	const take = (line: string) => {
		if (line.trim() === '') return;
		let parsed: Omit<ReceivedChunk<T>, 'observed'>;
		try {
			parsed = JSON.parse(line) as Omit<ReceivedChunk<T>, 'observed'>;
		} catch {
			parsed = { type: 'unparsed', content: line };
		}
		// n8n's heartbeat on a long stream, not a chunk of any node.
		if (parsed.type !== 'keepalive') chunks.push({ ...parsed, observed: observe() });
	};
	const reader = response.body?.getReader();
	const decoder = new TextDecoder();
	let buffer = '';
	for (;;) {
		if (!reader) break;
		const { done, value } = await reader.read();
		if (done) break;
		buffer += decoder.decode(value, { stream: true });
		for (let end = buffer.indexOf('\n'); end >= 0; end = buffer.indexOf('\n')) {
			take(buffer.slice(0, end));
			buffer = buffer.slice(end + 1);
		}
	}
	take(buffer + decoder.decode());
	return response.status;
}
