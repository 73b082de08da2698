/**
 * Error bodies and messages are read without regular expressions that backtrack: a provider,
 * proxy or anything in between can send a megabyte shaped to stall one, on n8n's main thread.
 * Each case below held the thread for minutes or more when these were regular expressions;
 * the assertions are on the outcome, which must arrive.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { classifyError } from '../../lib/engine/classifyError';
import { redact } from '../../lib/engine/errorText';
import { ProviderHttpError } from '../../lib/providers/httpError';

const failure = (status: number, body: string) =>
	classifyError('ollama', new ProviderHttpError(status, body, new Headers()));

describe('Hostile error bodies', () => {
	it('a proxy page with a megabyte of unclosed "<title" and "<h1" is described, title or not', () => {
		const page = `<html>${'<title'.repeat(100_000)}${'<h1'.repeat(100_000)}`;
		const described = failure(502, page);
		assert.equal(described.errorClass, 'server_error');
		assert.equal(
			described.message,
			"HTTP 502 with an HTML page, not the provider's API (a proxy or gateway answered)",
		);
		// A well-formed page still gives its title, or its first heading.
		assert.match(
			failure(502, '<!DOCTYPE html><html><head><TITLE>502 Bad Gateway</TITLE></head>').message,
			/answered\): 502 Bad Gateway$/,
		);
		assert.match(
			failure(503, '<html><body><h1 class="x">Service Unavailable</h1></body></html>').message,
			/answered\): Service Unavailable$/,
		);
	});

	it('a 400 repeating "input token count" a hundred thousand times is a bad request; with "exceeds" it is context too long', () => {
		const repeated = 'The input token count '.repeat(100_000);
		assert.equal(failure(400, repeated).errorClass, 'bad_request');
		assert.equal(
			failure(
				400,
				'The input token count (1200000) exceeds the maximum number of tokens allowed (1048576).',
			).errorClass,
			'context_too_long',
		);
		assert.equal(failure(400, `${repeated} exceeds the limit`).errorClass, 'context_too_long');
	});

	it('a megabyte of letters and dots passes through redaction unchanged; user info in a URL is cut', () => {
		const dotted = 'a.'.repeat(500_000);
		assert.equal(redact(dotted, []), dotted);
		const schemes = 'a://'.repeat(250_000);
		assert.equal(redact(schemes, []), schemes);
		assert.equal(
			redact(`${dotted} see https://user:pa@ss@proxy.example/x and redis://:pw@cache:6379`, []),
			`${dotted} see https://[redacted]@proxy.example/x and redis://[redacted]@cache:6379`,
		);
	});
});
