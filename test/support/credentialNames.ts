/**
 * The name n8n's credential dialog proposes for a new credential: the type's display name
 * without the words n8n leaves out, then "account" (n8n 2.41 editor, credentials store
 * `getNewCredentialName`). The server then appends a number if that name is taken
 * (`GET /rest/credentials/new?name=`). The example workflows look credentials up by it, so
 * that a user who keeps the proposal gets them connected on import.
 */
const LEFT_OUT = ['API', 'OAuth1', 'OAuth2', 'MCP'];

export function proposedCredentialName(displayName: string): string {
	const app = displayName
		.split(' ')
		.filter((word) => !LEFT_OUT.includes(word))
		.join(' ');
	return app.length > 0 ? `${app} account` : 'Unnamed credential';
}
