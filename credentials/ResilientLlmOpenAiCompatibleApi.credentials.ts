import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

/**
 * A server that speaks OpenAI's API (vLLM, LM Studio, a gateway), with its own key if it
 * takes one: the key goes only to this Base URL's host. Own type: see README, "Credentials".
 */
export class ResilientLlmOpenAiCompatibleApi implements ICredentialType {
	name = 'resilientLlmOpenAiCompatibleApi';

	displayName = 'Resilient LLM: OpenAI-Compatible API';

	icon: Icon = { light: 'file:resilientLlm.svg', dark: 'file:resilientLlm.dark.svg' };

	documentationUrl = 'https://platform.openai.com/docs/api-reference/models/list';

	properties: INodeProperties[] = [
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			required: true,
			default: '',
			placeholder: 'e.g. http://127.0.0.1:8000/v1',
			description: "The server's URL up to and including /v1",
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'Leave empty for a server that takes no key',
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
	];

	authenticate: IAuthenticateGeneric = {
		type: 'generic',
		properties: {
			headers: { Authorization: '={{$credentials.apiKey ? "Bearer " + $credentials.apiKey : ""}}' },
		},
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
					message: 'The server rejected the API key (401). Check the key.',
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
