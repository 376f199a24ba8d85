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

export interface MailStateRow {
  id: string;
  to_addr: string;
  read_at: number | null;
  acked_at: number | null;
}

/** Marks a message read (the first time only) by its recipient. */
export function markMailRead(store: Store, id: string, by: string): void {
  const now = store.now();
  if (store.run('UPDATE mail SET read_at = ? WHERE id = ? AND read_at IS NULL', now, id).changes === 0) return;
  store.event({ type: 'mail.read', agent: by.includes('/') ? by : null, payload: { id, by } });
  store.touch('mail', id);
}

/** Acknowledged: handled, not only seen. An ack reads it too. */
export function ackMail(store: Store, id: string, by: string): void {
  markMailRead(store, id, by);
  if (store.run('UPDATE mail SET acked_at = ? WHERE id = ? AND acked_at IS NULL', store.now(), id).changes === 0) return;
  store.event({ type: 'mail.acked', agent: by.includes('/') ? by : null, payload: { id, by } });
  store.touch('mail', id);
}

/** Mail this sender sent since `since` (indexed by sender, for the rate limit). */
export function mailSentSince(store: Store, from: string, since: number): number {
  return store.get<{ n: number }>('SELECT count(*) AS n FROM mail WHERE from_addr = ? AND created_at > ?', from, since)!.n;
}
