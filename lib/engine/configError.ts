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

/** A setting that, when given, must be a positive (whole) number. */
export function positive(value: unknown, field: string, integer = false): void {
	if (value === undefined) return;
	if (
		typeof value !== 'number' ||
		!Number.isFinite(value) ||
		value <= 0 ||
		(integer && !Number.isInteger(value))
	) {
		throw new ConfigError(
			field,
			`must be a positive ${integer ? 'whole ' : ''}number, got ${JSON.stringify(value)}`,
		);
	}
}

/** A setting that, when given, must be zero or more. */
export function nonNegative(value: unknown, field: string): void {
	if (value === undefined) return;
	if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
		throw new ConfigError(field, `must be zero or more, got ${JSON.stringify(value)}`);
	}
}
