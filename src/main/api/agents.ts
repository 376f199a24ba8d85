// Agent commands: the overseer's (list, stop, restart, type into) and the agent's own
// protocol (prime, hook, done).
import { ApiError, conflict } from '../../shared/errors';
import { priorWorkOf } from '../runtimes/agent-cli-launch';
import { resolveRef } from '../git/merge';
import { acceptDone, returnBeadAfterInterruption } from '../reconciler/transitions';
import { rolePrompt } from '../runtimes/role-prompts';
import { forgetRuntimeSession, releaseAgent, requireAgent } from '../store/agents';
import { holdBead, requireBead, slingBead } from '../store/beads';
import { agentView, getAgent, getRig, sessionView, type AgentRow, type SessionRow } from '../store/views';
import { beadById, requireCallerAgent, type EngineContext, type Handlers } from './context';

/**
 * Stops the agent (verified). With `hold`, its bead is held before the stop, so the tick
 * that applies the exit cannot hand the bead straight to another agent.
 */
export async function stopAgent(ctx: EngineContext, agentId: string, o: { hold: boolean }) {
  const { store } = ctx;
  const agent = requireAgent(store, agentId);
  if (o.hold && agent.hook_bead_id) {
    const bead = agent.hook_bead_id;
    // Work already done (in review) or finished has nothing left to dispatch.
    const status = requireBead(store, bead).status;
    if (status === 'open' || status === 'in_progress') store.transaction(() => holdBead(store, bead, `${agent.id} stopped by overseer`));
  }
  const stopped = await ctx.stopAgentSession(agent.id, o.hold ? 'hold' : 'user');
  if (!stopped && agent.hook_bead_id) {
    // No live session (it never started, or died unseen): release the hook directly.
    store.transaction(() => {
      const bead = agent.hook_bead_id!;
      releaseAgent(store, agent.id, 'idle', 'stopped by overseer');
      returnBeadAfterInterruption(store, bead, 'agent stopped by overseer');
    });
  }
}

export const agentHandlers: Handlers<
  'agent.list' | 'agent.stop' | 'agent.restart' | 'agent.input' | 'session.list' | 'agent.prime' | 'agent.hook' | 'agent.done' | 'agent.signal'
> = {
  'agent.list': (ctx) => ctx.store.all<AgentRow>('SELECT * FROM agents ORDER BY rig_id, role, name').map((a) => agentView(ctx.store, a)),

  'agent.stop': async (ctx, _c, input) => {
    await stopAgent(ctx, input.agent, { hold: input.hold });
    return agentView(ctx.store, getAgent(ctx.store, input.agent)!);
  },

  'agent.restart': async (ctx, _c, input) => {
    const { store } = ctx;
    const agent = requireAgent(store, input.agent);
    if (agent.role !== 'polecat') throw conflict(`${agent.id} is a ${agent.role}; only polecats restart on their bead`, 'agent');
    const bead = agent.hook_bead_id;
    if (!bead) throw conflict(`${agent.id} holds no bead; sling one to it instead`, 'agent');
    // Before the stop: the bead may be dispatched again while the stop is still awaited.
    if (input.fresh) store.transaction(() => forgetRuntimeSession(store, agent.id));
    await stopAgent(ctx, agent.id, { hold: false });
    store.transaction(() => {
      // Back on the same polecat: the reconciler dispatches it there as soon as it is idle.
      if (requireBead(store, bead).status === 'open') slingBead(store, bead, agent.id, agent.rig_id, { clearBackoff: true });
      store.event({ type: 'agent.restart_requested', agent: agent.id, bead, payload: input.fresh ? { fresh: true } : {}, pending: true });
    });
    return agentView(store, getAgent(store, agent.id)!);
  },

  'agent.input': (ctx, _c, input) => {
    requireAgent(ctx.store, input.agent);
    return { bytes: ctx.writeToAgent(input.agent, input.data) };
  },

  'session.list': (ctx, _c, input) =>
    (input.agent
      ? ctx.store.all<SessionRow>('SELECT * FROM sessions WHERE agent_id = ? ORDER BY started_at', input.agent)
      : ctx.store.all<SessionRow>('SELECT * FROM sessions ORDER BY started_at')
    ).map(sessionView),

  'agent.prime': async (ctx, caller) => {
    const agent = requireCallerAgent(ctx, caller);
    const bead = agent.hook_bead_id ? beadById(ctx.store, agent.hook_bead_id) : null;
    const prior_work = await priorWorkOf(ctx.store, agent);
    return { agent: agentView(ctx.store, agent), bead, prior_work, role_prompt: rolePrompt(agent, bead, prior_work) };
  },

  'agent.hook': async (ctx, caller) => {
    const agent = requireCallerAgent(ctx, caller);
    if (agent.hook_bead_id) ctx.store.run('UPDATE agents SET last_activity_at = ? WHERE id = ?', ctx.store.now(), agent.id);
    return { bead: agent.hook_bead_id ? beadById(ctx.store, agent.hook_bead_id) : null, prior_work: await priorWorkOf(ctx.store, agent) };
  },

  'agent.signal': (ctx, caller, input) => {
    const agent = requireCallerAgent(ctx, caller);
    if (!agent.session_id || !agent.hook_bead_id) throw conflict(`${agent.id} has no live session on a bead`, 'state');
    // The same events the terminal watch writes, so the reconciler decides the status one way.
    const report = input.state === 'waiting'
      ? {
          type: 'session.waiting' as const,
          payload: { session: agent.session_id, evidence: { summary: `the runtime reports it needs input${input.message ? `: ${input.message}` : ''}`, source: 'runtime' } },
        }
      : { type: 'session.progress' as const, payload: { session: agent.session_id, source: 'runtime' as const } };
    ctx.store.report({ ...report, agent: agent.id, bead: agent.hook_bead_id });
    ctx.wake();
    return { recorded: true };
  },

  'agent.done': async (ctx, caller, input) => {
    const { store } = ctx;
    const agent = requireCallerAgent(ctx, caller);
    const ended = store.get<{ status: string; close_reason: string | null }>(`SELECT status, close_reason FROM beads WHERE id = ? AND status IN ('closed', 'failed')`, input.bead);
    if (agent.hook_bead_id !== input.bead || agent.done_bead_id === input.bead || ended) {
      // A late or stray callback (or one for a bead closed under the agent, e.g. a superseded
      // resolution): recorded, never applied to whatever the agent holds now.
      store.transaction(() =>
        store.event({ type: 'agent.done_ignored', agent: agent.id, bead: input.bead, payload: { hook: agent.hook_bead_id, status: input.status } }),
      );
      const why = ended ? `${input.bead} is ${ended.status}${ended.close_reason ? ` (${ended.close_reason})` : ''}` : `${agent.id} does not hold ${input.bead} (hook: ${agent.hook_bead_id ?? 'none'})`;
      throw new ApiError('stale', `${why}; ignored`, 'bead');
    }
    requireBead(store, input.bead, 'bead');
    const rig = getRig(store, agent.rig_id!)!;
    const headSha = input.status === 'completed' && agent.branch ? await resolveRef({ dir: rig.path }, `refs/heads/${agent.branch}`) : null;
    const mr = store.transaction(() => acceptDone(store, agent.id, input.bead, { status: input.status, summary: input.summary ?? null, headSha }));
    ctx.wake();
    return { accepted: true, merge_request: mr };
  },
};
