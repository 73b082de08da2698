import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

/** Google Gemini API key (AI Studio). Own type: see README, "Credentials". */
export class ResilientLlmGeminiApi implements ICredentialType {
	name = 'resilientLlmGeminiApi';

	displayName = 'Resilient LLM: Google Gemini API';

	icon: Icon = { light: 'file:resilientLlm.svg', dark: 'file:resilientLlm.dark.svg' };

	documentationUrl = 'https://ai.google.dev/gemini-api/docs/api-key';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			required: true,
			default: '',
		},
		{
			displayName: 'Additional API Keys',
			name: 'additionalApiKeys',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'For a key pool: other keys of the same provider (other projects or organisations), separated by commas, spaces or new lines. Each call goes to the key with the most headroom; a key that hits its rate limit or quota rests while the others carry on. The test checks only the API Key.',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://generativelanguage.googleapis.com',
			description: 'Change only for a proxy, a gateway or the Resilient LLM provider emulator',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { 'x-goog-api-key': '={{$credentials.apiKey}}' } },
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "")}}',
			url: '/v1beta/models',
			method: 'GET',
			// A redirect to another host must not take the key with it: n8n's test would follow it.
			disableFollowRedirect: true,
		},
		rules: [
			{
				type: 'responseCode',
				properties: {
					value: 400,
					message: 'Google rejected the API key (400 API_KEY_INVALID). Check the key.',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 403,
					message: 'This API key may not use the Gemini API (403 PERMISSION_DENIED).',
				},
			},
		],
	};
}
