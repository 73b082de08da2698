/** A chain or task that cannot run as configured. Raised before any provider is called. */
export class ConfigError extends Error {
	constructor(
		/** The offending setting, as a path: `tiers[1].timeoutMs`, `prompt`. */
		readonly field: string,
		message: string,
	) {
		super(`${field}: ${message}`);
		this.name = 'ConfigError';
	}
}
