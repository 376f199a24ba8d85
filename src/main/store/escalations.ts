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
  const last = latestEscalation(store, e.agent, e.bead, e.reason);
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

/** Re-raised at most this many times (raised_count counts the first raise too). */
export const MAX_RERAISES = 2;

/** The overseer has seen it: it stops re-escalating and a new one of its kind may follow the cooldown. */
export function ackEscalation(store: Store, id: string, by: string): EscalationRow | null {
  const row = store.get<EscalationRow>('SELECT * FROM escalations WHERE id = ?', id);
  if (!row) return null;
  if (row.acked_at !== null) return row;
  const now = store.now();
  store.run('UPDATE escalations SET acked_at = ?, acked_by = ? WHERE id = ?', now, by, id);
  store.event({ type: 'escalation.acked', agent: row.agent_id, bead: row.bead_id, payload: { id, by, reason: row.reason } });
  store.touch('escalation', id);
  return { ...row, acked_at: now, acked_by: by };
}

/** Nobody acked it in time: it reaches the overseer's inbox again, once more of its at most two times. */
export function reraiseEscalation(store: Store, id: string): boolean {
  const row = store.get<EscalationRow>('SELECT * FROM escalations WHERE id = ?', id);
  if (!row || row.acked_at !== null || row.raised_count > MAX_RERAISES) return false;
  const count = row.raised_count + 1;
  store.run('UPDATE escalations SET raised_count = ?, last_raised_at = ? WHERE id = ?', count, store.now(), id);
  sendMail(store, {
    from: row.agent_id ?? row.source, to: OVERSEER,
    subject: `${row.bead_id ? `${row.bead_id}: ` : ''}${row.reason} (raised ${count} times, not acked)`,
    body: row.body, priority: MAIL_PRIORITY[row.severity], kind: 'escalation',
  });
  store.event({ type: 'escalation.reraised', agent: row.agent_id, bead: row.bead_id, payload: { id, reason: row.reason, severity: row.severity, count } });
  store.touch('escalation', id);
  return true;
}

export function listEscalations(store: Store, all: boolean): EscalationRow[] {
  return store.all<EscalationRow>(
    `SELECT * FROM escalations ${all ? '' : 'WHERE acked_at IS NULL'} ORDER BY last_raised_at DESC LIMIT 1000`,
  );
}

/** The newest escalation of one (agent, bead, reason): the one a deduplicated raise folded into. */
export function latestEscalation(store: Store, agent: string | null, bead: string | null, reason: string): EscalationRow | undefined {
  return store.get<EscalationRow>(
    `SELECT * FROM escalations WHERE reason = ? AND agent_id IS ? AND bead_id IS ? ORDER BY created_at DESC LIMIT 1`,
    reason, agent, bead,
  );
}
