/** n8n's ILoadOptionsFunctions as the model picker sees it, for the tier at `chain.tiers[0]`. */
import type { ICredentialDataDecryptedObject, ILoadOptionsFunctions } from 'n8n-workflow';

export function pickerContext(
	tier: Record<string, unknown>,
	selected: Record<string, ICredentialDataDecryptedObject>,
): ILoadOptionsFunctions {
	const parameters = { chain: { tiers: [tier] } };
	const path = 'parameters.chain.tiers[0].model';
	return {
		getNode: () => ({
			id: 'node-1',
			name: 'Resilient LLM',
			type: 'n8n-nodes-resilient-llm.resilientLlm',
			typeVersion: 1,
			position: [0, 0],
			parameters,
			credentials: Object.fromEntries(
				Object.keys(selected).map((type) => [type, { id: type, name: type }]),
			),
		}),
		// As n8n resolves it: '&' is a sibling of the parameter being listed.
		getCurrentNodeParameter: (name: string) => {
			const resolved = name.startsWith('&')
				? `${path.split('.').slice(1, -1).join('.')}.${name.slice(1)}`
				: name;
			return resolved
				.split(/\.|\[(\d+)\]/)
				.filter((part) => part)
				.reduce<unknown>((value, key) => (value as Record<string, unknown>)?.[key], parameters);
		},
		getCredentials: async (type: string) => {
			if (!selected[type]) throw new Error('Node does not require credentials');
			return selected[type];
		},
	} as unknown as ILoadOptionsFunctions;
}
