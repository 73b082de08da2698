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

export async function streamWebhook<T>(
	url: string,
	body: unknown,
	observe: () => T,
	timeoutMs = 120_000,
): Promise<{ status: number; chunks: Array<ReceivedChunk<T>> }> {
	const response = await fetch(url, {
		method: 'POST',
		headers: { 'content-type': 'application/json' },
		body: JSON.stringify(body),
		signal: AbortSignal.timeout(timeoutMs),
	});
	const chunks: Array<ReceivedChunk<T>> = [];
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
	return { status: response.status, chunks };
}
