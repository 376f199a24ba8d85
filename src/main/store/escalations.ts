// Escalations: problems that need a higher authority, as records with severity, source,
// reason and evidence. Deduplicated per (agent, bead, reason) with a cooldown, ack-able;
// each one also reaches the overseer's inbox as mail.
import { randomBytes } from 'node:crypto';
import { OVERSEER, type MailPriority, type Severity } from '../../shared/domain';
import type { Evidence } from '../../shared/events';
import { sendMail } from './mail';
import type { Store } from './store';


export interface EscalationRow {
  id: string;
  severity: Severity;
  source: string;
  agent_id: string | null;
  bead_id: string | null;
  reason: string;
  evidence: string;
  body: string;
  created_at: number;
  last_raised_at: number;
  raised_count: number;
  acked_at: number | null;
  acked_by: string | null;
}

export interface NewEscalation {
  severity: Severity;
  /** Who raised it: an agent id, `town` (a rule), `refinery`. */
  source: string;
  agent: string | null;
  bead: string | null;
  reason: string;
  evidence?: Evidence;
  body: string;
}

const MAIL_PRIORITY: Record<Severity, MailPriority> = { low: 'low', medium: 'normal', high: 'high', critical: 'urgent' };

/**
 * Raises an escalation unless the same (agent, bead, reason) is still unacked, or was
 * raised within the cooldown. Returns the id raised, or null when deduplicated.
 */
export function raiseEscalation(store: Store, e: NewEscalation, cooldownMs: number): string | null {
  const now = store.now();
  const last = store.get<EscalationRow>(
    `SELECT * FROM escalations WHERE reason = ? AND agent_id IS ? AND bead_id IS ? ORDER BY created_at DESC LIMIT 1`,
    e.reason, e.agent, e.bead,
  );
  if (last && (last.acked_at === null || now - last.last_raised_at < cooldownMs)) return null;
  const id = `esc-${randomBytes(5).toString('hex')}`;
  store.run(
    `INSERT INTO escalations (id, severity, source, agent_id, bead_id, reason, evidence, body, created_at, last_raised_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    id, e.severity, e.source, e.agent, e.bead, e.reason, JSON.stringify(e.evidence ?? { summary: e.body.split('\n')[0] ?? '' }), e.body, now, now,
  );
  sendMail(store, {
    from: e.agent ?? e.source, to: OVERSEER, subject: `${e.bead ? `${e.bead}: ` : ''}${e.reason}`, body: e.body,
    priority: MAIL_PRIORITY[e.severity], kind: 'escalation',
  });
  store.event({ type: 'escalation', agent: e.agent, bead: e.bead, payload: { reason: e.reason, id, severity: e.severity } });
  store.touch('escalation', id);
  return id;
}
