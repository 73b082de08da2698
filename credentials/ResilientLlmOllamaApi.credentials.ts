import type {
	IAuthenticateGeneric,
	ICredentialTestRequest,
	ICredentialType,
	INodeProperties,
	Icon,
} from 'n8n-workflow';

/** A local or remote Ollama server. Own type: see README, "Credentials". */
export class ResilientLlmOllamaApi implements ICredentialType {
	name = 'resilientLlmOllamaApi';

	displayName = 'Resilient LLM: Ollama API';

	icon: Icon = { light: 'file:resilientLlm.svg', dark: 'file:resilientLlm.dark.svg' };

	documentationUrl = 'https://github.com/ollama/ollama/blob/main/docs/api.md';

	properties: INodeProperties[] = [
		{
			displayName: 'Base URL',
			name: 'baseUrl',
			type: 'string',
			required: true,
			default: 'http://127.0.0.1:11434',
		},
		{
			displayName: 'API Key',
			name: 'apiKey',
			type: 'string',
			typeOptions: { password: true },
			default: '',
			description: 'Only for an Ollama behind a proxy or Ollama cloud; a local server needs none',
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
			url: '/api/tags',
			method: 'GET',
			// A redirect to another host must not take the key with it: n8n's test would follow it.
			disableFollowRedirect: true,
		},
		rules: [
			{
				type: 'responseCode',
				properties: {
					value: 401,
					message: 'The server in front of Ollama rejected the API key (401).',
				},
			},
			{
				type: 'responseCode',
				properties: { value: 404, message: 'No Ollama API at this base URL (404).' },
			},
		],
	};
}
