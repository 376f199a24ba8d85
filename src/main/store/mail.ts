// Mail between agents and the overseer (escalations add their records in escalations.ts).
import { randomBytes } from 'node:crypto';
import type { MailPriority } from '../../shared/domain';
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
