/** npm run n8n:install — installs (or confirms) the cached n8n runtime. */
import { ensureRuntime, isInstalled, runtimeDir } from './runtime';

const already = isInstalled();
ensureRuntime();
process.stdout.write(`${already ? 'already installed' : 'installed'}: ${runtimeDir()}\n`);
