/** Which wire a request is for, asked of each wire in the emulator's list. */
import type { IncomingMessage } from 'node:http';

import { PROVIDERS } from '../providers/registry';
import type { Json, ProviderWire, WireCall, WireRequest } from '../providers/wireFormat';
import { WIRES } from './wire';

export function wireRequest(req: IncomingMessage, url: URL): WireRequest {
	return {
		url,
		header: (name) => {
			const value = req.headers[name];
			return Array.isArray(value) ? value[0] : (value ?? '');
		},
	};
}

/** The model call a POST is, and the wire it came in on; undefined for no wire's path. */
export function readCall(
	request: WireRequest,
	body: Json,
): { wire: ProviderWire; call: WireCall } | undefined {
	for (const wire of WIRES) {
		const call = wire.readCall(request, body);
		if (call) return { wire, call };
	}
	return undefined;
}

/**
 * The model-list request a GET is: the wire that knows it by its key header, else the one
 * that knows it by its path alone.
 */
export function readListRequest(
	request: WireRequest,
): { wire: ProviderWire; key: string } | undefined {
	let byPath: { wire: ProviderWire; key: string } | undefined;
	for (const wire of WIRES) {
		const read = wire.readListRequest(request);
		if (!read) continue;
		if (!read.byPathOnly) return { wire, key: read.key };
		byPath ??= { wire, key: read.key };
	}
	return byPath;
}

/** A wire's model list, with the models the registry names for the providers that speak it. */
export function modelList(wire: ProviderWire): Json {
	const models = PROVIDERS.filter((p) => p.wire === wire.name).flatMap((p) => p.models);
	return wire.modelList([...new Set(models)]);
}
