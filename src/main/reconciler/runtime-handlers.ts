// What the engine does when a real agent CLI cannot go on: it is not installed (the bead
// is held, not dispatched in a loop), or it hit a usage limit or an authentication failure
// (the agent is stopped and its bead held for it, to resume once the overseer releases it).
// Either way the overseer hears once, with what to do.
import type { EventPayload, EventType } from '../../shared/events';
import { markStopping, releaseAgent } from '../store/agents';
import { holdBead, slingBead } from '../store/beads';
import { raiseEscalation } from '../store/escalations';
import type { Store } from '../store/store';
import { getAgent, getBead, type EventRow } from '../store/views';
import type { HandlerContext } from './event-handlers';
import type { Effect } from './effects';
import { returnBeadAfterInterruption } from './transitions';

type Handler<T extends EventType> = (ctx: HandlerContext, e: EventRow, p: EventPayload<T>) => Effect[];

const holdable = (store: Store, bead: string) => {
  const b = getBead(store, bead);
  return b !== undefined && (b.status === 'open' || b.status === 'in_progress');
};

export const runtimeMissing: Handler<'runtime.missing'> = ({ store, config }, e, p) => {
  const agent = e.agent_id ? getAgent(store, e.agent_id) : undefined;
  const bead = e.bead_id;
  // Only the launch that found the CLI missing is undone; a newer start is left alone.
  if (!agent || !bead || agent.hook_bead_id !== bead || agent.session_id || (p.launch && agent.launch_id !== p.launch)) return [];
  const reason = `${p.runtime} cannot start: ${p.problem}`;
  if (holdable(store, bead)) holdBead(store, bead, reason);
  releaseAgent(store, agent.id, 'idle', reason);
  returnBeadAfterInterruption(store, bead, reason);
  raiseEscalation(
    store,
    {
      severity: 'high', source: 'town', agent: null, bead: null,
      reason: `rig ${p.rig}: ${p.runtime} is not available`,
      body: `${p.problem}\nBeads of rig ${p.rig} are held instead of started (first: ${bead}). Fix it, then release them (town release ${bead}), ` +
        `or run the rig on another runtime (town rig update ${p.rig} --runtime ...).`,
      evidence: { summary: p.problem, source: 'runtime' },
    },
    config['escalation.cooldown'],
  );
  return [];
};

export const runtimeBlocked: Handler<'agent.runtime_blocked'> = ({ store, config }, e, p) => {
  const agent = e.agent_id ? getAgent(store, e.agent_id) : undefined;
  const bead = e.bead_id;
  if (!agent || !bead || agent.hook_bead_id !== bead || agent.session_id !== p.session || agent.stop_reason) return [];
  const what = p.kind === 'auth' ? 'authentication failed' : 'usage limit reached';
  // Held for this agent: released, it resumes the same conversation where it stopped.
  if (holdable(store, bead)) {
    holdBead(store, bead, `${agent.id} paused: ${what}`);
    slingBead(store, bead, agent.id, agent.rig_id);
  }
  markStopping(store, agent.id, 'hold');
  raiseEscalation(
    store,
    {
      severity: 'high', source: 'town', agent: null, bead: null,
      reason: `${p.runtime}: ${what}`,
      body: `${agent.id} on ${bead}: ${p.message}\nIt is paused, not restarted. Once the ${p.kind === 'auth' ? 'key is fixed' : 'limit resets'}, ` +
        `release its bead (town release ${bead}) and it resumes its conversation.`,
      evidence: { summary: p.message, source: 'runtime' },
    },
    config['escalation.cooldown'],
  );
  return [{ type: 'stop_session', agent: agent.id, session: p.session, reason: 'hold' }];
};
