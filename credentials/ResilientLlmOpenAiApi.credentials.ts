import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

/** OpenAI, or any endpoint that speaks its API (vLLM, LM Studio, gateways). Own type: see README, "Credentials". */
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
			description: 'Leave empty for an OpenAI-compatible server that takes no key',
		},
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			default: 'https://api.openai.com/v1',
			description: 'For an OpenAI-compatible endpoint, its URL up to and including /v1',
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
