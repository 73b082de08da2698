import { getJson, isRecord, joinUrl, str } from '../modelList';
import { hintFromGeminiDetails } from '../retryHints';
import { CONNECTION_WORDS, readApiError } from '../stainlessErrors';
import type { ModelInfo, ProviderDescriptor, WireFailure } from '../types';
import { GeminiAdapter } from './adapter';

const DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';
const MAX_PAGES = 10;

/**
 * @google/genai's ApiError, whose message is the JSON error body (for an error inside a stream,
 * after "got status: UNAVAILABLE. "); the Stainless client it bundles throws the shared APIError.
 */
function readGeminiFailure(error: unknown): WireFailure | undefined {
	const api = readApiError(error);
	if (api) return api;
	if (!isRecord(error) || typeof error.status !== 'number' || typeof error.message !== 'string')
		return undefined;
	let body: Record<string, unknown> = {};
	try {
		const parsed: unknown = JSON.parse(
			error.message.slice(Math.max(0, error.message.indexOf('{'))),
		);
		if (isRecord(parsed) && isRecord(parsed.error)) body = parsed.error;
	} catch {
		// Not JSON: keep the bare status and the message.
	}
	return { status: error.status, body, text: str(body.message) || error.message };
}

/** Gemini's `details[]` entry of a given protobuf type, if present. */
function detail(failure: WireFailure, suffix: string): Record<string, unknown> | undefined {
	const details = failure.body.details;
	if (!Array.isArray(details)) return undefined;
	return details.find(
		(d): d is Record<string, unknown> => isRecord(d) && str(d['@type']).endsWith(suffix),
	);
}

export const gemini = {
	id: 'gemini',
	label: 'Google Gemini',
	credential: { type: 'resilientLlmGeminiApi', displayName: 'Resilient LLM: Google Gemini API' },
	needsKey: true,
	baseUrlReplacesCredential: false,
	defaultBaseUrl: DEFAULT_BASE_URL,
	wire: 'gemini',
	models: ['gemini-2.5-flash', 'gemini-2.5-flash-lite'],
	overloadedStatus: 503,
	prefill: false,
	createAdapter: (settings) => new GeminiAdapter(settings),

	async listModels(connection, signal) {
		const models: ModelInfo[] = [];
		let token = '';
		for (let page = 0; page < MAX_PAGES; page++) {
			const url = joinUrl(
				connection.baseUrl || DEFAULT_BASE_URL,
				`/v1beta/models?pageSize=1000${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`,
			);
			const body = await getJson(url, { 'x-goog-api-key': connection.apiKey ?? '' }, signal);
			const list = isRecord(body) && Array.isArray(body.models) ? body.models : [];
			for (const entry of list) {
				if (!isRecord(entry) || !str(entry.name)) continue;
				// Embedding and image models are listed too; only generateContent can answer a prompt.
				const methods = entry.supportedGenerationMethods;
				if (Array.isArray(methods) && !methods.includes('generateContent')) continue;
				models.push({
					id: str(entry.name).replace(/^models\//, ''),
					name: str(entry.displayName) || undefined,
				});
			}
			token = isRecord(body) ? str(body.nextPageToken) : '';
			if (!token) break;
		}
		return models;
	},

	classifyHttp(failure) {
		if (failure.status === 429) {
			// A daily quota clears tomorrow, not after a retry; a per-minute one does.
			const quota = detail(failure, 'QuotaFailure');
			const violations = quota && Array.isArray(quota.violations) ? quota.violations : [];
			const daily = violations.some(
				(v) => isRecord(v) && /PerDay|per_day|daily/i.test(str(v.quotaId) + str(v.quotaMetric)),
			);
			return daily ? 'quota_exhausted' : 'rate_limited';
		}
		if (failure.status === 400 || failure.status === 413 || failure.status === 422) {
			// Gemini reports a bad API key as 400 INVALID_ARGUMENT.
			const info = detail(failure, 'ErrorInfo');
			if (info && /API_KEY/.test(str(info.reason))) return 'auth';
			if (/API key not valid/i.test(failure.text)) return 'auth';
		}
		return undefined;
	},
	retryHint: (failure) => hintFromGeminiDetails(failure.body.details),
	readFailure: readGeminiFailure,
	connectionWords: CONNECTION_WORDS,
} as const satisfies ProviderDescriptor<'gemini'>;
