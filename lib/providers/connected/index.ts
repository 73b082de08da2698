/**
 * `connected`: a tier whose chat model another n8n node supplies. It has no credential, model
 * list or adapter factory of its own (the node brings all three); what it adds is reading the
 * errors such a model throws, whichever provider is behind it.
 */
import { CONNECTION_WORDS } from '../stainlessErrors';
import type { ErrorClass, ProviderDescriptor, WireFailure } from '../types';
import { ConnectedModelError } from './adapter';
import { readConnectedFailure } from './failure';

export { ConnectedModelAdapter, ConnectedModelError } from './adapter';
export { isLangChainChatModel, modelIdOf, switchOffRetries } from './langChainModel';
export type { LangChainChatModel } from './langChainModel';

/** AWS Bedrock names each failure by its exception; the status alone is ambiguous (400s). */
const AWS_EXCEPTIONS: Record<string, ErrorClass> = {
	ThrottlingException: 'rate_limited',
	ServiceQuotaExceededException: 'quota_exhausted',
	ServiceUnavailableException: 'overloaded',
	ModelNotReadyException: 'overloaded',
	ModelTimeoutException: 'timeout',
	InternalServerException: 'server_error',
	ModelErrorException: 'server_error',
	AccessDeniedException: 'auth',
	UnrecognizedClientException: 'auth',
	ExpiredTokenException: 'auth',
	ResourceNotFoundException: 'model_not_found',
};

export const connected = {
	id: 'connected',
	label: 'Connected Chat Model',
	credential: { type: '', displayName: "the connected node's own credential" },
	needsKey: false,
	baseUrlReplacesCredential: false,
	// Only for the emulator's model lists, which a connected tier never reads.
	wire: 'openai',
	models: [],
	overloadedStatus: 503,
	prefill: false,
	createAdapter() {
		throw new Error('a connected tier takes its model from the node connected to it');
	},
	listModels: async () => [],
	classifyHttp(failure: WireFailure): ErrorClass | undefined {
		const type = String(failure.body.type ?? '');
		const aws = AWS_EXCEPTIONS[type];
		if (aws) return aws;
		if (type === 'ValidationException')
			return /too long|too many (input )?tokens|context/i.test(failure.text)
				? 'context_too_long'
				: 'bad_request';
		return undefined;
	},
	readFailure(error: unknown): WireFailure | undefined {
		const failure = readConnectedFailure(error);
		if (!failure) return undefined;
		const family = error instanceof ConnectedModelError ? error.family : undefined;
		return family ? { ...failure, family } : failure;
	},
	connectionWords: CONNECTION_WORDS,
	// What no reader knows: retried like a server error, never taken as the request's fault.
	unreadClass: 'server_error',
} as const satisfies ProviderDescriptor<'connected'>;
