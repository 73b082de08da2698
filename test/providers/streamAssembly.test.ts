/**
 * Tool calls assembled from their fragments as servers send them: interleaved, with the id
 * and name repeated, or with arguments that never become a JSON object.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { MalformedResponseError } from '../../lib/providers/httpError';
import { StreamedAnswer, ToolCallAssembler } from '../../lib/providers/streamAssembly';

describe('tool calls assembled from a stream', () => {
	it('interleaved fragments join their own call; each leaves whole, in the order it began', () => {
		const calls = new ToolCallAssembler('openai');
		calls.add(0, { id: 'call_a', name: 'get_weather', arguments: '{"city":' });
		calls.add(1, { id: 'call_b', name: 'get_time', arguments: '{"zone"' });
		calls.add(0, { arguments: '"Paris"}' });
		calls.add(1, { arguments: ':"CET"}' });
		assert.deepEqual(calls.finishAll(), [
			{ id: 'call_a', name: 'get_weather', arguments: { city: 'Paris' } },
			{ id: 'call_b', name: 'get_time', arguments: { zone: 'CET' } },
		]);
		assert.deepEqual(calls.finishAll(), [], 'a call leaves once');
	});

	it('an id and name repeated in every fragment are taken once', () => {
		const calls = new ToolCallAssembler('openai_compatible');
		calls.add(0, { id: 'call_a', name: 'lookup', arguments: '{"q":' });
		calls.add(0, { id: 'call_a', name: 'lookup', arguments: '"fox"}' });
		assert.deepEqual(calls.finish(0), { id: 'call_a', name: 'lookup', arguments: { q: 'fox' } });
	});

	it('a call with no id gets one; arguments sent whole as an object are kept', () => {
		const calls = new ToolCallAssembler('anthropic');
		calls.add(3, { name: 'lookup', input: { q: 'fox' } });
		const call = calls.finish(3);
		assert.match(call?.id ?? '', /^call_\w+$/);
		assert.deepEqual(call?.arguments, { q: 'fox' });
	});

	it('arguments that are not a JSON object once whole are a malformed answer', () => {
		const calls = new ToolCallAssembler('openai');
		calls.add(0, { id: 'call_a', name: 'lookup', arguments: '{"q": "fo' });
		assert.throws(() => calls.finish(0), MalformedResponseError);
	});

	it('the answer joins its text and keeps its calls for done', () => {
		const answer = new StreamedAnswer();
		const events = [
			...answer.text('The fox '),
			...answer.text(''),
			...answer.text('naps.'),
			...answer.toolCall({ id: 'call_a', name: 'lookup', arguments: {} }),
		];
		assert.deepEqual(
			events.map((e) => e.type),
			['text', 'text', 'tool_call'],
		);
		const done = answer.done({
			finish: 'stop',
			usage: { inputTokens: 1, outputTokens: 2 },
			model: 'm',
		});
		assert.deepEqual(done, {
			type: 'done',
			response: {
				text: 'The fox naps.',
				toolCalls: [{ id: 'call_a', name: 'lookup', arguments: {} }],
				finish: 'stop',
				usage: { inputTokens: 1, outputTokens: 2 },
				model: 'm',
			},
		});
	});
});
