// n8n's own lint rules for community node packages. The variant "without cloud support"
// because this package has runtime dependencies (the provider SDKs) and targets
// self-hosted n8n; see README, "Where it runs".
import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

export default [
	...configWithoutCloudSupport,
	{ ignores: ['dist/**', 'test/n8n-runtime/**', '.n8n-demo/**'] },
];
