// Mail and escalations. Escalations are deduplicated per (bead, reason) while unacked.
import { randomBytes } from 'node:crypto';
import { OVERSEER, type MailPriority } from '../../shared/domain';
import type { Store } from './store';

export function sendMail(store: Store, m: { from: string; to: string; subject: string; body: string; priority: MailPriority; kind: string; thread?: string }): string {
  const id = `mail-${randomBytes(5).toString('hex')}`;
  store.run(
    `INSERT INTO mail (id, from_addr, to_addr, subject, body, priority, kind, thread_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    id, m.from, m.to, m.subject, m.body, m.priority, m.kind, m.thread ?? null, store.now(),
  );
  store.event({ type: 'mail.sent', agent: m.from.includes('/') ? m.from : null, payload: { id, to: m.to, subject: m.subject, kind: m.kind } });
  store.touch('mail', id);
  return id;
}

export function escalate(store: Store, e: { bead: string | null; agent: string | null; reason: string; body: string; priority?: MailPriority }) {
  const subject = `${e.bead ? `${e.bead}: ` : ''}${e.reason}`;
  const dup = store.get(`SELECT 1 FROM mail WHERE to_addr = ? AND kind = 'escalation' AND subject = ? AND acked_at IS NULL`, OVERSEER, subject);
  if (dup) return;
  sendMail(store, { from: e.agent ?? 'town', to: OVERSEER, subject, body: e.body, priority: e.priority ?? 'high', kind: 'escalation' });
  store.event({ type: 'escalation', agent: e.agent, bead: e.bead, payload: { reason: e.reason } });
}
