import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

/** Own type, not n8n's `anthropicApi`: see README, "Credentials". */
export class ResilientLlmAnthropicApi implements ICredentialType {
	name = 'resilientLlmAnthropicApi';

	displayName = 'Resilient LLM: Anthropic API';

	icon: Icon = { light: 'file:resilientLlm.svg', dark: 'file:resilientLlm.dark.svg' };

	documentationUrl = 'https://docs.anthropic.com/en/api/getting-started';

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
			default: 'https://api.anthropic.com',
			description:
				'Change only for a proxy, a gateway or the Resilient LLM provider emulator. With or without a trailing /v1.',
		},
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: { 'x-api-key': '={{$credentials.apiKey}}', 'anthropic-version': '2023-06-01' },
		},
	};

	test: ICredentialTestRequest = {
		request: {
			// The API's paths start with /v1; a Base URL that already ends in it is taken as meant.
			baseURL: '={{$credentials.baseUrl.replace(/\\/+$/, "").replace(/\\/v1$/, "")}}',
			url: '/v1/models',
			method: 'GET',
			// A redirect to another host must not take the key with it: n8n's test would follow it.
			disableFollowRedirect: true,
		},
		rules: [
			{
				type: 'responseCode',
				properties: { value: 401, message: 'Anthropic rejected the API key (401). Check the key.' },
			},
			{
				type: 'responseCode',
				properties: { value: 403, message: 'This API key may not use the Anthropic API (403).' },
			},
		],
	};
}
