/**
 * Error shapes of the chat models a connected tier may hold that the emulator cannot produce
 * (AWS Bedrock, Mistral, Cohere, Vertex, n8n's NodeApiError around an SDK error), as their
 * SDKs throw them, read by classifyError into the same classes as the built-in providers.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { classifyError } from '../../lib/engine/classifyError';
import { ConnectedModelError } from '../../lib/providers/connected';
import type { BuiltInProviderName } from '../../lib/providers/types';

const classOf = (error: unknown, family?: BuiltInProviderName) =>
	classifyError('connected', new ConnectedModelError(error, family));

/** An AWS SDK v3 service exception, as @aws-sdk/client-bedrock-runtime throws it. */
function awsError(name: string, status: number, message: string): Error {
	return Object.assign(new Error(message), {
		name,
		$fault: status >= 500 ? 'server' : 'client',
		$metadata: { httpStatusCode: status, requestId: 'req-aws-1', attempts: 1 },
	});
}

/** n8n's NodeApiError around an SDK error: `httpCode` as text, the SDK's error as `cause`. */
function nodeApiError(cause: unknown, httpCode: string | null): Error {
	return Object.assign(new Error('The service failed to process your request'), {
		name: 'NodeApiError',
		httpCode,
		description: 'see cause',
		cause,
	});
}

describe('connected models: error shapes read by their SDK', () => {
	it('AWS Bedrock: by the exception name, a 400 as quota, validation or context', () => {
		const cases: [string, number, string, string][] = [
			['ThrottlingException', 429, 'Too many requests', 'rate_limited'],
			['ServiceQuotaExceededException', 400, 'Quota exceeded', 'quota_exhausted'],
			['ServiceUnavailableException', 503, 'Service unavailable', 'overloaded'],
			['ModelNotReadyException', 429, 'Model not ready', 'overloaded'],
			['InternalServerException', 500, 'Internal error', 'server_error'],
			['AccessDeniedException', 403, 'Access denied', 'auth'],
			['ResourceNotFoundException', 404, 'Model not found', 'model_not_found'],
			['ValidationException', 400, 'Input is too long for requested model.', 'context_too_long'],
			['ValidationException', 400, 'Malformed input request', 'bad_request'],
		];
		for (const [name, status, message, expected] of cases) {
			const failure = classOf(awsError(name, status, message));
			assert.equal(failure.errorClass, expected, name);
			assert.equal(failure.httpStatus, status, name);
		}
	});

	it('Mistral: statusCode and a JSON body as text; a 429 with retry-after is a hint', () => {
		const sdkError = Object.assign(new Error('API error occurred: Status 429'), {
			name: 'SDKError',
			statusCode: 429,
			body: JSON.stringify({
				object: 'error',
				message: 'Rate limit exceeded',
				type: 'rate_limited',
			}),
			headers: new Headers({ 'retry-after': '2' }),
		});
		const failure = classOf(sdkError, 'openai');
		assert.equal(failure.errorClass, 'rate_limited');
		assert.equal(failure.retryHint?.ms, 2000);
		const context = Object.assign(new Error('API error occurred: Status 400'), {
			statusCode: 400,
			body: JSON.stringify({
				message:
					'Prompt contains 40010 tokens, too large for model with 32768 maximum context length',
			}),
		});
		assert.equal(classOf(context, 'openai').errorClass, 'context_too_long');
	});

	it('Cohere inside NodeApiError: statusCode and a parsed body, no headers', () => {
		const cohere = Object.assign(new Error('TooManyRequestsError\nStatus code: 429'), {
			statusCode: 429,
			body: { message: 'You are using a Trial key, which is limited' },
		});
		assert.equal(classOf(nodeApiError(cohere, '429')).errorClass, 'rate_limited');
		const unauthorized = Object.assign(new Error('UnauthorizedError'), {
			statusCode: 401,
			body: { message: 'invalid api token' },
		});
		assert.equal(classOf(nodeApiError(unauthorized, '401')).errorClass, 'auth');
	});

	it('Vertex: response.status and response.data with Google`s error body', () => {
		const vertex = Object.assign(new Error('Google request failed with status code 429'), {
			response: {
				status: 429,
				headers: new Headers(),
				data: {
					error: {
						code: 429,
						status: 'RESOURCE_EXHAUSTED',
						message: 'Quota exceeded',
						details: [
							{
								'@type': 'type.googleapis.com/google.rpc.QuotaFailure',
								violations: [{ quotaId: 'GenerateRequestsPerDayPerProject' }],
							},
						],
					},
				},
			},
		});
		assert.equal(classOf(nodeApiError(vertex, '429'), 'gemini').errorClass, 'quota_exhausted');
	});

	it('only n8n`s summary: its httpCode; a dropped connection under it; nothing readable: server_error, said', () => {
		const summary = classOf(nodeApiError(new Error('opaque'), '503'));
		assert.equal(summary.errorClass, 'overloaded');
		const dropped = nodeApiError(
			Object.assign(new Error('Connection error.'), {
				name: 'APIConnectionError',
				cause: Object.assign(new TypeError('fetch failed'), {
					cause: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' },
				}),
			}),
			null,
		);
		assert.equal(classOf(dropped).errorClass, 'connection');
		const unknown = classOf(new Error('something no reader knows'));
		assert.equal(unknown.errorClass, 'server_error');
		assert.match(
			unknown.message,
			/unrecognised error, taken as server_error: something no reader knows/,
		);
	});
});
