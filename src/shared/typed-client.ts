// A typed view of any transport to the engine. Types only from the API: this module loads
// no schemas (zod), so the agent-side CLI that uses it starts fast.
import type { ApiInput, ApiMethod, ApiOutput } from './api';

/** Anything that can carry a call to the engine: the control socket, the in-memory transport, IPC. */
export interface Transport {
  call(method: string, params: unknown): Promise<unknown>;
}

export type TypedClient = {
  call<M extends ApiMethod>(method: M, params: ApiInput<M>): Promise<ApiOutput<M>>;
};

export function typedClient(transport: Transport): TypedClient {
  return {
    call: (method, params) => transport.call(method, params) as never,
  };
}
