/** A scenario that cannot be loaded, and the checks that name the field at fault. */
export class ScenarioError extends Error {
	constructor(field: string, message: string) {
		super(`scenario ${field}: ${message}`);
		this.name = 'ScenarioError';
	}
}

export function checkNumber(value: unknown, field: string, min: number, max = Infinity): void {
	if (value === undefined) return;
	if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
		throw new ScenarioError(
			field,
			`must be a number from ${min}${max < Infinity ? ` to ${max}` : ''}, got ${JSON.stringify(value)}`,
		);
	}
}

export function checkWholeNumber(value: unknown, field: string, min: number): void {
	checkNumber(value, field, min);
	if (value !== undefined && !Number.isInteger(value))
		throw new ScenarioError(field, `must be a whole number, got ${JSON.stringify(value)}`);
}
