/** Waits for a condition, polling, never for a fixed time; gives up only when clearly stuck. */
export async function until(
	condition: () => boolean,
	what: string,
	giveUpMs = 30_000,
): Promise<void> {
	const giveUpAt = performance.now() + giveUpMs;
	while (!condition()) {
		if (performance.now() > giveUpAt) throw new Error(`still waiting for ${what}`);
		await new Promise((resolve) => setTimeout(resolve, 2));
	}
}
