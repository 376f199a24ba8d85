// The one entry point for API calls from any transport: authenticate, validate, authorize,
// run the handler, and answer errors in the typed shape.
import { timingSafeEqual } from 'node:crypto';
import type { ZodError, ZodType } from 'zod';
import { api, isApiMethod, type Caller } from '../../shared/api';
import { ApiError } from '../../shared/errors';
import { hashToken } from '../engine/town-dir';
import { noteAgentCliCall } from '../reconciler/health';
import { handlers, type EngineContext } from './handlers';

export function fieldOf(err: ZodError): { field: string; message: string } {
  const issue = err.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : issue?.code === 'unrecognized_keys' ? String((issue as { keys?: string[] }).keys?.[0]) : '(input)';
  const message = issue?.code === 'unrecognized_keys' ? `unknown field ${field}` : `${field}: ${issue?.message ?? 'invalid'}`;
  return { field, message };
}

/**
 * Parses one request frame (JSON text) with its schema. A bad frame comes back as a
 * typed error carrying the frame's id when it had one, so the caller can answer it.
 */
export function parseFrame<T>(text: string, schema: ZodType<T>): { frame: T } | { id: number | null; error: ApiError } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { id: null, error: new ApiError('bad_frame', 'frame is not valid JSON') };
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return { frame: parsed.data };
  const id = typeof (raw as { id?: unknown })?.id === 'number' ? (raw as { id: number }).id : null;
  const { field, message } = fieldOf(parsed.error);
  return { id, error: new ApiError('bad_frame', message, field) };
}

export class ApiDispatcher {
  constructor(
    private readonly ctx: EngineContext,
    private readonly overseerToken: string,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** Who holds this token: the overseer, an agent's live session, or nobody. */
  authenticate(token: unknown): Caller {
    if (typeof token !== 'string' || token.length === 0) throw new ApiError('unauthorized', 'a token is required');
    const a = Buffer.from(token);
    const b = Buffer.from(this.overseerToken);
    if (a.length === b.length && timingSafeEqual(a, b)) return { kind: 'overseer' };
    const agent = this.ctx.store.get<{ id: string }>('SELECT id FROM agents WHERE token_hash = ?', hashToken(token));
    if (agent) return { kind: 'agent', agentId: agent.id };
    throw new ApiError('unauthorized', 'unknown or expired token');
  }

  async dispatch(caller: Caller, method: string, params: unknown): Promise<unknown> {
    if (!isApiMethod(method)) throw new ApiError('unknown_method', `unknown method ${method}`, 'method');
    const def = api[method];
    if (def.access === 'overseer' && caller.kind !== 'overseer') {
      throw new ApiError('forbidden', `${method} is for the overseer; an agent token may only act for its own agent`);
    }
    const parsed = def.input.safeParse(params ?? {});
    if (!parsed.success) {
      const { field, message } = fieldOf(parsed.error);
      throw new ApiError('invalid_input', message, field);
    }
    if (caller.kind === 'agent') {
      const { store } = this.ctx;
      store.transaction(() => noteAgentCliCall(store, caller.agentId, store.now()));
    }
    try {
      const handler = handlers[method] as (ctx: EngineContext, caller: Caller, input: unknown) => unknown;
      return await handler(this.ctx, caller, parsed.data);
    } catch (err) {
      if (err instanceof ApiError) throw err;
      const code = (err as { code?: string }).code;
      if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')) {
        throw new ApiError('conflict', `rejected by the store: ${(err as Error).message}`);
      }
      this.log(`internal error in ${method}: ${(err as Error).stack ?? err}`);
      throw new ApiError('internal', `internal error in ${method}: ${(err as Error).message}`);
    }
  }
}
