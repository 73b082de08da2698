import type { ICredentialType, INodeProperties, Icon } from 'n8n-workflow';

/**
 * The Redis that Resilient LLM shares breaker and idempotency state through (often the one
 * n8n's queue mode already uses). Own type, not n8n's `redis`: see README, "Credentials".
 * Tested by the node (a PING), since Redis does not speak HTTP.
 */
export class ResilientLlmRedisApi implements ICredentialType {
	name = 'resilientLlmRedisApi';

	displayName = 'Resilient LLM: Redis API';

	icon: Icon = { light: 'file:resilientLlm.svg', dark: 'file:resilientLlm.dark.svg' };

	documentationUrl = 'https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/';

	properties: INodeProperties[] = [
		{ displayName: 'Host', name: 'host', type: 'string', default: '127.0.0.1', required: true },
		{ displayName: 'Port', name: 'port', type: 'number', default: 6379 },
		{
			displayName: 'User',
			name: 'user',
			type: 'string',
			default: '',
			description: 'Leave empty unless your Redis uses ACL users',
		},
		{
			displayName: 'Password',
			name: 'password',
			type: 'string',
			typeOptions: { password: true },
			default: '',
		},
		{ displayName: 'Database Number', name: 'database', type: 'number', default: 0 },
		{
			displayName: 'Key Prefix',
			name: 'prefix',
			type: 'string',
			default: 'resilient-llm:',
			description:
				'Every key the nodes keep in Redis starts with this. Give each n8n installation that shares this Redis its own prefix, so that each keeps its own circuit breakers, stored answers and alert counters.',
		},
		{ displayName: 'SSL', name: 'ssl', type: 'boolean', default: false },
	];
}
