/**
 * "Decided once", per wait: the Human Review webhook with n8n's interfaces faked, its claims
 * in the real state store, shared with another process as with several n8n webhook processes.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { HumanReview } from '../../nodes/HumanReview/HumanReview.node.ts';
import { RedisServer } from '../harness/redis';
import { fakeWebhook } from '../support/fakeWebhook';
import type { Posted, ReviewPost } from '../support/fakeWebhook';

let redis: RedisServer;
before(async () => {
	// The embedded store lives in n8n's user folder, as in n8n.
	process.env.N8N_USER_FOLDER = mkdtempSync(join(tmpdir(), 'review-user-folder-'));
	redis = await RedisServer.start();
});
after(async () => {
	const { closeStateStores } = await import('../../nodes/shared/stateStores');
	await closeStateStores();
	await redis?.stop();
});

let executions = 0;
const executionId = () => `${process.pid}-${++executions}`;

async function decide(post: ReviewPost): Promise<Posted> {
	const { context, result } = fakeWebhook(post);
	const answer = await new HumanReview().webhook.call(context);
	return { ...result, workflowData: answer.workflowData };
}

/** The same decision, posted to another n8n process (a child process with the same user folder). */
async function decideElsewhere(post: ReviewPost): Promise<number> {
	const script = `
		const { HumanReview } = require(${JSON.stringify(resolve(__dirname, '../../nodes/HumanReview/HumanReview.node.ts'))});
		const { fakeWebhook } = require(${JSON.stringify(resolve(__dirname, '../support/fakeWebhook.ts'))});
		const { closeStateStores } = require(${JSON.stringify(resolve(__dirname, '../../nodes/shared/stateStores.ts'))});
		(async () => {
			const { context, result } = fakeWebhook(${JSON.stringify(post)});
			await new HumanReview().webhook.call(context);
			await closeStateStores();
			process.stdout.write(String(result.status));
		})();`;
	const { stdout } = await promisify(execFile)(
		process.execPath,
		['--import', 'tsx', '-e', script],
		{ env: process.env, timeout: 30_000 },
	);
	return Number(stdout);
}

describe('Human Review: each wait is decided once', () => {
	it('two Human Review nodes in one execution (agent, then manager) are decided separately', async () => {
		const id = executionId();
		const agent = await decide({ executionId: id, node: 'Agent review', runIndex: 0 });
		assert.equal(agent.status, 200);
		const manager = await decide({ executionId: id, node: 'Manager review', runIndex: 0 });
		assert.equal(manager.status, 200, 'the second review is not "already decided"');
		assert.deepEqual(
			(manager.workflowData as unknown[][]).map((output) => output.length),
			[0, 1, 0],
			'and it resumes on Approved',
		);
		const again = await decide({ executionId: id, node: 'Manager review', runIndex: 0 });
		assert.equal(again.status, 409);
		assert.match(again.body, /Already decided/);
		assert.equal(again.workflowData, undefined, 'a second decision resumes nothing');
	});

	it('a review inside a loop of 3 items: each of its waits is decided once', async () => {
		const id = executionId();
		for (const runIndex of [0, 1, 2]) {
			const first = await decide({ executionId: id, node: 'Review', runIndex });
			assert.equal(first.status, 200, `wait ${runIndex + 1}`);
			const second = await decide({ executionId: id, node: 'Review', runIndex });
			assert.equal(second.status, 409, `a second decision on wait ${runIndex + 1}`);
		}
	});

	for (const store of ['embedded', 'redis'] as const) {
		it(`${store}: a second decision sent to another n8n process is refused there too`, async () => {
			const post: ReviewPost = {
				executionId: executionId(),
				node: 'Review',
				runIndex: 0,
				options: { stateStore: store },
				credentials: {
					resilientLlmRedisApi: { host: '127.0.0.1', port: redis.port, database: 0 },
				},
			};
			assert.equal((await decide(post)).status, 200);
			assert.equal(await decideElsewhere(post), 409);
			assert.equal(
				await decideElsewhere({ ...post, runIndex: 1 }),
				200,
				'the next wait of the node is open there',
			);
		});
	}

	it('with the state store unavailable, this process still refuses a second decision, and says so in the log', async () => {
		const stopped = await RedisServer.start();
		await stopped.stop();
		const post: ReviewPost = {
			executionId: executionId(),
			node: 'Review',
			runIndex: 0,
			options: { stateStore: 'redis' },
			credentials: {
				resilientLlmRedisApi: { host: '127.0.0.1', port: stopped.port, database: 0 },
			},
		};
		const first = await decide(post);
		assert.equal(first.status, 200);
		assert.ok(
			first.logs.some((l) => l.level === 'warn' && /state store is unavailable/.test(l.message)),
		);
		assert.equal((await decide(post)).status, 409);
	});
});
