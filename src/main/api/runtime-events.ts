// What a real agent CLI's hooks report, turned into the agent's one record: its runtime
// session (for resume), its last hook, its usage, and the same health events the terminal
// watch writes (progress, waiting), so the reconciler decides the status one way.
import { conflict } from '../../shared/errors';
import type { ApiParsedInput } from '../../shared/api';
import { noteRuntimeHook, recordRuntimeSession } from '../store/agents';
import { recordUsage } from '../store/usage';
import type { Store } from '../store/store';
import type { AgentRow } from '../store/views';
import { requireCallerAgent, type Handlers } from './context';

type RuntimeEventInput = ApiParsedInput<'agent.runtime_event'>;

/** "Bash: git commit -m 'x'" — what the agent is doing or asks to do, one line. */
function toolLine(input: RuntimeEventInput): string | null {
  if (!input.tool) return null;
  const command = input.command?.replace(/\s+/g, ' ').trim();
  return command ? `${input.tool}: ${command.slice(0, 200)}` : input.tool;
}

function applyRuntimeEvent(store: Store, agent: AgentRow, session: string, input: RuntimeEventInput) {
  const bead = agent.hook_bead_id;
  const detail = input.message ?? toolLine(input);
  noteRuntimeHook(store, agent.id, { event: input.event, at: store.now(), detail });
  if (input.session) recordRuntimeSession(store, agent, session, input.runtime, input.session);
  if (input.usage) {
    // A runtime's totals run over its conversation, which a resume continues in a new
    // session: one row per conversation, so a resumed run is not counted twice.
    const key = input.session ? `${input.runtime}:${input.session}` : session;
    recordUsage(store, { session: key, agent: agent.id, bead, rig: agent.rig_id, runtime: input.runtime, model: input.model ?? null, totals: input.usage });
  }
  if (!bead) return;
  const finished = agent.done_bead_id === bead;
  switch (input.event) {
    case 'session_start':
    case 'prompt':
    case 'tool':
    case 'tool_done':
      // Asked-for input answered, or a stall over: the runtime says it goes on.
      if (agent.status === 'waiting' || agent.status === 'stalled') {
        const summary = toolLine(input) ?? `${input.runtime}: ${input.event.replace('_', ' ')}`;
        store.report({ type: 'session.progress', agent: agent.id, bead, payload: { session, source: 'runtime', summary } });
      }
      return;
    case 'permission': {
      const what = toolLine(input);
      const summary = what ? `asks permission to use ${what}` : `asks permission${input.message ? `: ${input.message}` : ''}`;
      // The ask itself, whole, so the overseer sees the exact command and can answer it.
      const permission = input.tool ? { tool: input.tool, command: input.command ?? null } : undefined;
      store.report({ type: 'session.waiting', agent: agent.id, bead, payload: { session, evidence: { summary, source: 'runtime', ...(permission ? { permission } : {}) } } });
      return;
    }
    case 'notification':
      store.report({
        type: 'session.waiting',
        agent: agent.id,
        bead,
        payload: { session, evidence: { summary: `the runtime says: ${input.message ?? 'it needs input'}`, source: 'runtime' } },
      });
      return;
    case 'idle_prompt':
    case 'turn_end':
      // The turn that ran `town done` ends too: only an unfinished hook is reminded.
      if (!finished) store.event({ type: 'agent.turn_ended', agent: agent.id, bead, payload: { session, runtime: input.runtime, message: input.message } });
      return;
    case 'limit':
    case 'auth_failed':
      store.report({
        type: 'agent.runtime_blocked',
        agent: agent.id,
        bead,
        payload: { session, runtime: input.runtime, kind: input.event === 'limit' ? 'limit' : 'auth', message: input.message ?? input.event },
      });
      return;
    case 'session_end':
    case 'usage':
      return;
  }
}

export const runtimeEventHandlers: Handlers<'agent.runtime_event'> = {
  'agent.runtime_event': (ctx, caller, input) => {
    const agent = requireCallerAgent(ctx, caller);
    // A hook from a session that is not the agent's live one (an old process, a copy of the
    // token) changes nothing.
    if (!agent.session_id) throw conflict(`${agent.id} has no live session`, 'state');
    ctx.store.transaction(() => applyRuntimeEvent(ctx.store, agent, agent.session_id!, input));
    ctx.wake();
    return { recorded: true };
  },
};
