// What every command module shares: the engine context handlers run against, and the
// handler types derived from the contract in src/shared/api.ts.
import type { ApiMethod, ApiOutput, ApiParsedInput, Caller } from '../../shared/api';
import type { InvariantViolation, TickSummary } from '../../shared/doctor';
import { OVERSEER, type FreezeReport } from '../../shared/domain';
import { ApiError } from '../../shared/errors';
import { requireAgent } from '../store/agents';
import type { Store } from '../store/store';
import { beadView, getBead, type AgentRow } from '../store/views';

/** What handlers need from the running engine beyond the store. */
export interface EngineContext {
  store: Store;
  townDir: string;
  reconcilerMetrics(): { ticks: number; lastTickMs: number; violations: InvariantViolation[]; recent: { summary(): TickSummary } };
  /** Kill-then-status for an agent's live session; resolves after the store reflects it. */
  stopAgentSession(agentId: string, reason: string): Promise<boolean>;
  writeToAgent(agentId: string, data: string): number;
  /** E-stop: dispatch paused, every live session's process group SIGSTOPped. */
  freezeTown(reason: string): FreezeReport;
  /** SIGCONT, progress clocks restarted, dispatch resumed. */
  thawTown(): FreezeReport;
  wake(): void;
}

export type Handler<M extends ApiMethod> = (ctx: EngineContext, caller: Caller, input: ApiParsedInput<M>) => ApiOutput<M> | Promise<ApiOutput<M>>;
/** The handlers of one command module: exactly the methods it names. */
export type Handlers<M extends ApiMethod = ApiMethod> = { [K in M]: Handler<K> };

export const callerId = (c: Caller) => (c.kind === 'agent' ? c.agentId : OVERSEER);

export function requireCallerAgent(ctx: EngineContext, caller: Caller): AgentRow {
  if (caller.kind !== 'agent') throw new ApiError('forbidden', 'this command is for agents: run it inside an agent session (TOWN_TOKEN)');
  return requireAgent(ctx.store, caller.agentId);
}

export const beadById = (store: Store, id: string) => beadView(store, getBead(store, id)!);
