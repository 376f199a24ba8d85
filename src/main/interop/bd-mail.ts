// bd `message` records (Gas Town's mail) ↔ Overseer's mail: pure mapping both ways, no I/O.
// A message is an issue of type `message`: title = subject, description = body, assignee =
// recipient, status open = unread / closed = read, priority 0–3 = urgent…low. Gas Town keeps
// the rest in labels (`from:`, `thread:`, `reply-to:`, `msg-type:`, `read`); bd itself has a
// `sender` field and threads by `replies-to` dependencies. Both are read; both are written.
import { createHash } from 'node:crypto';
import { OVERSEER, type MailPriority } from '../../shared/domain';
import { MAIL_KINDS, type ImportedMail, type MailKind } from '../store/mail';
import { iso, str, time, type BdLine, type Json } from './bd-format';
import type { MailRow } from '../store/views';

export type { ImportedMail };

const MAIL_ID = /^mail-[a-f0-9]{4,32}$/;

/** Overseer's own mail keeps its id on a round trip; anything else gets one derived from its bd id. */
export function mailIdFor(bdId: string): string {
  return MAIL_ID.test(bdId) ? bdId : `mail-${createHash('sha256').update(bdId).digest('hex').slice(0, 20)}`;
}

/** Gas Town's addresses in Overseer's words: `mayor/` is the mayor, the human is the overseer. */
export function townAddress(address: string): string {
  const a = address.trim();
  if (a === '' || a === 'overseer' || a === '--human' || a === 'human') return OVERSEER;
  return a.endsWith('/') && a.length > 1 ? a.slice(0, -1) : a;
}

/** And back: Gas Town writes the town-level agents with a trailing slash. */
export function gasTownAddress(address: string): string {
  return address === 'mayor' || address === 'deacon' ? `${address}/` : address;
}

/** Gas Town's `msg-type:` in Overseer's kinds (its scavenge is a task); the town's own kinds read back as themselves. */
function mailKind(msgType: string | null, replyTo: string | null): MailKind {
  if (msgType === 'scavenge') return 'task';
  const known = MAIL_KINDS.find((k) => k === msgType);
  if (known) return known;
  return replyTo ? 'reply' : 'notification';
}

const PRIORITIES: MailPriority[] = ['urgent', 'high', 'normal', 'low', 'low'];

function labelValue(labels: string[], prefix: string): string | null {
  const l = labels.find((x) => x.startsWith(prefix));
  return l ? l.slice(prefix.length) || null : null;
}

export function messageLine(rec: Json, id: string, status: string, labels: string[]): BdLine {
  const subject = str(rec.title).trim();
  if (!subject) return { kind: 'bad', error: `${id} has no title` };
  const repliesTo = (Array.isArray(rec.dependencies) ? (rec.dependencies as Json[]) : []).find((d) => d && str(d.type) === 'replies-to');
  const replyTo = labelValue(labels, 'reply-to:') ?? (repliesTo ? str(repliesTo.depends_on_id) || null : null);
  const msgType = labelValue(labels, 'msg-type:');
  const created = time(rec.created_at);
  const read = status === 'closed' || labels.includes('read');
  return {
    kind: 'mail',
    mail: {
      bdId: id.slice(0, 200),
      from: townAddress(str(rec.sender) || labelValue(labels, 'from:') || str(rec.created_by)),
      to: townAddress(str(rec.assignee)),
      subject: subject.slice(0, 500),
      body: str(rec.description).slice(0, 100_000),
      priority: PRIORITIES[typeof rec.priority === 'number' ? rec.priority : 2] ?? 'normal',
      kind: mailKind(msgType, replyTo),
      thread: labelValue(labels, 'thread:'),
      replyTo,
      created_at: created,
      read_at: read ? (time(rec.closed_at) ?? time(rec.updated_at) ?? created ?? 0) : null,
    },
  };
}

/** A mail row as export reads it: with its bd id and the message it replies to. */
export type ExportedMail = Omit<MailRow, 'acked_at'> & { bd_id: string | null; reply_to: string | null };

/** One bd `message` record: read mail is closed, as Gas Town marks it. */
export function toBdMessage(m: ExportedMail): string {
  const id = m.bd_id ?? m.id;
  const labels = [`from:${gasTownAddress(m.from_addr)}`];
  if (m.thread_id) labels.push(`thread:${m.thread_id}`);
  if (m.reply_to) labels.push(`reply-to:${m.reply_to}`);
  // Every kind, so an escalation comes back an escalation (a missing type reads as a notification).
  labels.push(`msg-type:${m.kind}`);
  const record: Json = {
    id,
    title: m.subject,
    ...(m.body ? { description: m.body } : {}),
    status: m.read_at === null ? 'open' : 'closed',
    priority: Math.max(0, PRIORITIES.indexOf(m.priority)),
    issue_type: 'message',
    assignee: gasTownAddress(m.to_addr),
    sender: gasTownAddress(m.from_addr),
    created_at: iso(m.created_at),
    updated_at: iso(m.read_at ?? m.created_at),
    ...(m.read_at === null ? {} : { closed_at: iso(m.read_at) }),
    labels,
    ...(m.reply_to ? { dependencies: [{ issue_id: id, depends_on_id: m.reply_to, type: 'replies-to', created_at: iso(m.created_at) }] } : {}),
  };
  return JSON.stringify(record);
}
