// n8n's lint rules for community node packages, applied to every TypeScript file.
import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

export default [
	...configWithoutCloudSupport,
	{ ignores: ['dist/**', 'test/n8n-runtime/**', '.n8n-demo/**'] },
	{
		// The engine, adapters and emulator are plain TypeScript with no n8n imports by design;
		// the node files turn their errors into NodeOperationError / NodeApiError.
		files: ['lib/**/*.ts'],
		rules: { '@n8n/community-nodes/require-node-api-error': 'off' },
	},
	{
		// Tests start servers, n8n and the emulator command as child processes.
		files: ['test/**/*.ts'],
		rules: {
			'@n8n/community-nodes/require-node-api-error': 'off',
			'@n8n/community-nodes/no-dangerous-functions': 'off',
		},
	},
];
