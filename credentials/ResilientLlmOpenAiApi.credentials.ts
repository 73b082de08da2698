import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

/**
 * OpenAI's API, or a proxy in front of it. Its key goes only to this Base URL's host; another
 * OpenAI-compatible server has its own credential type. Own type: see README, "Credentials".
 */
export class ResilientLlmOpenAiApi implements ICredentialType {
	name = 'resilientLlmOpenAiApi';

	displayName = 'Resilient LLM: OpenAI API';

	icon: Icon = { light: 'file:resilientLlm.svg', dark: 'file:resilientLlm.dark.svg' };

	documentationUrl = 'https://platform.openai.com/docs/api-reference/authentication';

	properties: INodeProperties[] = [
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description:
				'Needed for OpenAI. For another OpenAI-compatible server, use a Resilient LLM: OpenAI-Compatible API credential instead.',
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
			default: 'https://api.openai.com/v1',
			description:
				'Change only for a proxy, a gateway or the Resilient LLM provider emulator: its URL up to and including /v1',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: { headers: { Authorization: '=Bearer {{$credentials.apiKey}}' } },
	};

	test: ICredentialTestRequest = {
		request: {
			baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "")}}',
			url: '/models',
			method: 'GET',
			// A redirect to another host must not take the key with it: n8n's test would follow it.
			disableFollowRedirect: true,
		},
		rules: [
			{
				type: 'responseCode',
				properties: {
					value: 401,
					message: 'The endpoint rejected the API key (401). Check the key and the base URL.',
				},
			},
			{
				type: 'responseCode',
				properties: {
					value: 404,
					message: 'No OpenAI-style API at this base URL (404). It should end in /v1.',
				},
			},
		],
	};
}
