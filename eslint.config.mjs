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
		files: ['nodes/ResilientLlm/description.ts', 'nodes/shared/**/*.ts'],
		rules: { 'n8n-nodes-base/node-param-default-missing': 'off' },
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
