/**
 * A node:test reporter that runs beside the spec reporter: at the end of a run it prints the
 * ten slowest tests, so growth in the suite's time shows, and a closing count line.
 */
import { relative } from 'node:path';

interface TestEvent {
	type: string;
	data: {
		name: string;
		file?: string;
		nesting: number;
		details?: { duration_ms?: number; type?: string };
	};
}

const SHOWN = 10;

export default async function* slowestReporter(
	source: AsyncIterable<TestEvent>,
): AsyncGenerator<string> {
	const timed: Array<{ name: string; file: string; ms: number }> = [];
	let passed = 0;
	let failed = 0;
	for await (const event of source) {
		if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
		const { data } = event;
		// Suites and each file's own wrapper are sums of their tests, not tests.
		if (data.details?.type === 'suite') continue;
		if (data.nesting === 0 && data.file && data.name === data.file) continue;
		if (event.type === 'test:pass') passed++;
		else failed++;
		const file = data.file ? relative(process.cwd(), data.file) : '';
		timed.push({ name: data.name, file, ms: data.details?.duration_ms ?? 0 });
	}
	timed.sort((a, b) => b.ms - a.ms);
	yield `\nslowest ${Math.min(SHOWN, timed.length)} tests:\n`;
	for (const test of timed.slice(0, SHOWN))
		yield `${(test.ms / 1000).toFixed(1).padStart(7)} s  ${test.file}  ${test.name}\n`;
	yield `tests: ${passed} passed, ${failed} failed\n`;
}
