// Mail between agents and the overseer (escalations add their records in escalations.ts).
import { randomBytes } from 'node:crypto';
import type { MailPriority } from '../../shared/domain';
import type { Store } from './store';

/** Every kind of mail the town writes; a bd file carries it as a `msg-type:` label. */
export const MAIL_KINDS = ['notification', 'task', 'reply', 'escalation', 'rework'] as const;
export type MailKind = (typeof MAIL_KINDS)[number];

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

/** A message as a bd file holds it (interop/bd-mail.ts reads it). */
export interface ImportedMail {
  /** The record's id in the file: re-imports and exports know the message by it. */
  bdId: string;
  from: string;
  to: string;
  subject: string;
  body: string;
  priority: MailPriority;
  kind: MailKind;
  thread: string | null;
  /** The bd id of the message (or bead) this one answers. */
  replyTo: string | null;
  created_at: number | null;
  /** When it was read; null = unread. */
  read_at: number | null;
}

/**
 * A message from a bd file, under an id derived from its bd id: importing the file again
 * updates it, never duplicates it. Content follows the file; once read it stays read. No
 * event per message (an import of thousands would flood the feed; the import reports them).
 * The town's own mail (no bd id: it keeps its id on export) is never changed by a file: a
 * re-import of the town's export leaves it as it is, and a crafted file cannot rewrite it.
 */
export function importMail(store: Store, id: string, m: ImportedMail): 'imported' | 'updated' {
  const isNew = store.sql('SELECT 1 FROM mail WHERE id = ?').get(id) === undefined;
  store.sql(IMPORT_MAIL).run(
    id, m.from, m.to, m.subject, m.body, m.priority, m.kind, m.thread, m.created_at ?? store.now(), m.read_at, m.bdId, m.replyTo,
  );
  return isNew ? 'imported' : 'updated';
}

const IMPORT_MAIL = `INSERT INTO mail (id, from_addr, to_addr, subject, body, priority, kind, thread_id, created_at, read_at, bd_id, reply_to)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT(id) DO UPDATE SET from_addr = excluded.from_addr, to_addr = excluded.to_addr, subject = excluded.subject,
    body = excluded.body, priority = excluded.priority, kind = excluded.kind, thread_id = excluded.thread_id,
    reply_to = excluded.reply_to, read_at = coalesce(mail.read_at, excluded.read_at)
  WHERE mail.bd_id IS NOT NULL`;
