// The overseer's answer to a permission a real agent CLI asks for (ask mode): the keys that
// pick Allow or Deny in the runtime's own dialog, sent only while that ask is still pending,
// so a stale button never types into an agent that has moved on.
import type { AgentEvidence, PermissionAsk } from '../../shared/domain';
import { ApiError } from '../../shared/errors';
import { permissionKeys } from '../runtimes/permission-keys';
import { recordProgress, requireAgent, setAgentStatus } from '../store/agents';
import type { Store } from '../store/store';
import { agentView, getAgent, type AgentRow, type SessionRow } from '../store/views';
import type { Handlers } from './context';

const DEFAULT_DENY_REASON = 'The overseer denied this. Do it another way, or if you cannot, run: town escalate --severity high --reason blocked "why"';

/** The ask the agent waits on now, or null (not waiting, or waiting on something else). */
export function pendingPermission(agent: AgentRow): PermissionAsk | null {
  if (agent.status !== 'waiting' || !agent.status_evidence || !agent.session_id) return null;
  try {
    return (JSON.parse(agent.status_evidence) as AgentEvidence).permission ?? null;
  } catch {
    return null;
  }
}

function runtimeOf(store: Store, session: string): string | null {
  return store.get<Pick<SessionRow, 'runtime'>>('SELECT runtime FROM sessions WHERE id = ?', session)?.runtime ?? null;
}

/**
 * Claude drops keys that arrive within about 0.6 s of its dialog appearing (findings §0
 * "key-timing"); the ask is recorded after the dialog shows (Claude's Notification, Codex's
 * PermissionRequest hook), so a second after it is safe for both.
 */
const DIALOG_SETTLE_MS = 1000;
/** Between the keys of one answer: each lets the dialog redraw before the next. */
const KEY_STEP_MS = 400;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The ask still pending, the one the overseer answers (its tool and command), or a stale error naming why. */
function requireAsk(store: Store, agentId: string, seen: { tool?: string; command?: string | null }): { agent: AgentRow; ask: PermissionAsk } {
  const agent = requireAgent(store, agentId);
  const ask = pendingPermission(agent);
  if (!ask) throw new ApiError('stale', `${agent.id} is not waiting on a permission (it is ${agent.status}); nothing was sent`, 'agent');
  const now = `${agent.id} now asks about ${ask.tool}: ${ask.command ?? '(no command)'}; nothing was sent`;
  if (seen.tool !== undefined && seen.tool !== ask.tool) throw new ApiError('stale', now, 'tool');
  if (seen.command !== undefined && seen.command !== ask.command) throw new ApiError('stale', now, 'command');
  return { agent, ask };
}

export const permissionHandlers: Handlers<'agent.answer_permission'> = {
  'agent.answer_permission': async (ctx, _c, input) => {
    const { store } = ctx;
    const seen = requireAsk(store, input.agent, { tool: input.tool, command: input.command });
    const settle = (seen.agent.status_since ?? 0) + DIALOG_SETTLE_MS - store.now();
    if (settle > 0) await pause(settle);
    // Looked at again after the pause: the agent may have moved on meanwhile.
    const { agent, ask } = requireAsk(store, input.agent, seen.ask);
    const runtime = runtimeOf(store, agent.session_id!);
    const keys = permissionKeys(runtime, input.decision, input.reason ?? DEFAULT_DENY_REASON);
    if (!keys) throw new ApiError('conflict', `${agent.id} runs ${runtime ?? 'no known runtime'}, whose permission dialog Overseer cannot answer; answer it in the terminal`, 'agent');
    const [first, ...rest] = keys;
    ctx.writeToAgent(agent.id, first!);
    // Answered now, not when the next hook arrives: a second click finds nothing to answer.
    store.transaction(() => {
      recordProgress(store, agent.id, store.now());
      setAgentStatus(store, agent.id, 'working', { cause: input.decision === 'allow' ? `overseer allowed ${ask.tool}` : `overseer denied ${ask.tool}` });
    });
    for (const keys of rest) {
      await pause(KEY_STEP_MS);
      ctx.writeToAgent(agent.id, keys);
    }
    ctx.wake();
    return agentView(store, getAgent(store, agent.id)!);
  },
};
