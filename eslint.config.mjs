// n8n's lint rules for community node packages, applied to every TypeScript file.
import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

export default [
	...configWithoutCloudSupport,
	{ ignores: ['dist/**', 'test/n8n-runtime/**', '.n8n-demo/**'] },
	{
		// The project has no mailbox: package.json's author names the maintainers and points at
		// the issue tracker, and npm takes an author without an email. Once the maintainers have
		// an address, put it in package.json and drop this exception.
		files: ['package.json'],
		rules: { '@n8n/community-nodes/valid-author': 'off' },
	},
	{
		// The engine, adapters and emulator are plain TypeScript with no n8n imports by design;
		// the node files turn their errors into NodeOperationError / NodeApiError.
		files: ['lib/**/*.ts'],
		rules: { '@n8n/community-nodes/require-node-api-error': 'off' },
	},
	{
		// The chain's parameter defaults are read from lib/engine/defaults.ts, the one place the
		// engine and the parameter reader read them too; the rule wants literals. Every parameter
		// still has a default of its own type: test/nodes/description.test.ts checks it.
		files: ['nodes/shared/**/*.ts'],
		rules: { 'n8n-nodes-base/node-param-default-missing': 'off' },
	},
	{
		// The Redis credential's test is a PING, which a credential's `test` (an HTTP request)
		// cannot describe; every node that offers it names that test through `testedBy`, in the
		// slot built once in nodes/shared/stateStoreParameters.ts. The rule reads `testedBy` only
		// in credential lists written out in node files. test/nodes/description.test.ts checks
		// that each node's Redis slot names a test the node has.
		files: ['credentials/ResilientLlmRedisApi.credentials.ts'],
		rules: { '@n8n/community-nodes/credential-test-required': 'off' },
	},
	{
		// Tests start servers, n8n and the emulator command as child processes; `npm run scan`
		// runs npm and tar.
		files: ['test/**/*.ts', 'scripts/**/*.ts'],
		rules: {
			'@n8n/community-nodes/require-node-api-error': 'off',
			'@n8n/community-nodes/no-dangerous-functions': 'off',
		},
	},
];
