/** npm run n8n:install — installs (or confirms) the cached n8n runtime. */
import { ensureRuntime, isInstalled, runtimeDir } from './runtime';

if (isInstalled()) process.stdout.write(`already installed: ${runtimeDir()}\n`);
else ensureRuntime();
