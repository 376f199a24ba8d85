// Escalations as the overseer works them: raised by agents (or the overseer), listed, acked.
import { notFound } from '../../shared/errors';
import { ackEscalation, latestEscalation, listEscalations, raiseEscalation, type EscalationRow } from '../store/escalations';
import { readConfig } from '../reconciler/config';
import { escalationView, getAgent, getBead } from '../store/views';
import { callerId, type Handlers } from './context';
import { refuseOverMailRateLimit } from './mail';

export const escalationHandlers: Handlers<'escalation.raise' | 'escalation.list' | 'escalation.ack'> = {
  'escalation.raise': (ctx, caller, input) => {
    const { store } = ctx;
    const agent = caller.kind === 'agent' ? caller.agentId : null;
    // An agent's escalation is about its hooked bead unless it names another.
    const bead = input.bead ?? (agent ? (getAgent(store, agent)?.hook_bead_id ?? null) : null);
    if (input.bead && !getBead(store, input.bead)) throw notFound('bead', input.bead, 'bead');
    return store.transaction(() => {
      // Each escalation mails the overseer: varied reasons in a loop meet the mail limit.
      if (agent) refuseOverMailRateLimit(store, agent);
      const id = raiseEscalation(
        store,
        {
          severity: input.severity, source: callerId(caller), agent, bead, reason: input.reason, body: input.body,
          evidence: { summary: input.body.split('\n')[0]!.slice(0, 300), source: caller.kind === 'agent' ? 'agent' : 'overseer' },
        },
        readConfig(store)['escalation.cooldown'],
      );
      const row = id ? store.get<EscalationRow>('SELECT * FROM escalations WHERE id = ?', id) : latestEscalation(store, agent, bead, input.reason);
      return { escalation: escalationView(row!), deduplicated: id === null };
    });
  },

  'escalation.list': (ctx, _caller, input) => listEscalations(ctx.store, input.all).map(escalationView),

  'escalation.ack': (ctx, caller, input) => {
    const { store } = ctx;
    const row = store.transaction(() => ackEscalation(store, input.id, callerId(caller)));
    if (!row) throw notFound('escalation', input.id, 'id');
    return escalationView(row);
  },
};
