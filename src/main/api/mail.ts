// Mail commands for agents and the overseer.
import type { Caller } from '../../shared/api';
import { OVERSEER } from '../../shared/domain';
import { ApiError, notFound } from '../../shared/errors';
import { readConfig } from '../reconciler/config';
import { ackMail, mailSentSince, markMailRead, sendMail } from '../store/mail';
import type { Store } from '../store/store';
import { getAgent, mailView, type MailRow } from '../store/views';
import { callerId, type Handlers } from './context';

const MINUTE = 60_000;

/** A message its caller may see: addressed to it (the overseer sees all). Others are "not found". */
function visibleMail(store: Store, caller: Caller, id: string): MailRow {
  const row = store.get<MailRow>('SELECT * FROM mail WHERE id = ?', id);
  if (!row || (caller.kind === 'agent' && row.to_addr !== caller.agentId)) throw notFound('mail', id, 'id');
  return row;
}

/** Marks it read or acked only for its recipient: the overseer peeking at an agent's mail leaves it unread. */
function changeMailState(store: Store, caller: Caller, id: string, change: typeof markMailRead): MailRow {
  return store.transaction(() => {
    const row = visibleMail(store, caller, id);
    if (row.to_addr === callerId(caller)) change(store, id, callerId(caller));
    return store.get<MailRow>('SELECT * FROM mail WHERE id = ?', id)!;
  });
}

/** An agent in a loop must not bury the overseer's inbox (lessons.md: 86 alerts in 30 minutes). */
export function refuseOverMailRateLimit(store: Store, from: string): void {
  const limit = readConfig(store)['mail.rate_limit'];
  if (mailSentSince(store, from, store.now() - MINUTE) >= limit) {
    throw new ApiError('rate_limited', `${from} sent ${limit} messages in the last minute, the limit (mail.rate_limit = ${limit}/min); wait and send again`, 'mail.rate_limit');
  }
}

export const mailHandlers: Handlers<'mail.send' | 'mail.inbox' | 'mail.read' | 'mail.ack'> = {
  'mail.send': (ctx, caller, input) => {
    const { store } = ctx;
    if (input.to !== OVERSEER && !getAgent(store, input.to)) throw notFound('recipient', input.to, 'to');
    const from = callerId(caller);
    return store.transaction(() => {
      refuseOverMailRateLimit(store, from);
      const id = sendMail(store, { from, to: input.to, subject: input.subject, body: input.body, priority: input.priority, kind: 'notification' });
      return mailView(store.get<MailRow>('SELECT * FROM mail WHERE id = ?', id)!);
    });
  },

  'mail.inbox': (ctx, caller, input) =>
    ctx.store
      .all<MailRow>(
        `SELECT * FROM mail WHERE to_addr = ? ${input.unread ? 'AND read_at IS NULL' : ''} ORDER BY created_at DESC LIMIT 500`,
        callerId(caller),
      )
      .map(mailView),

  'mail.read': (ctx, caller, input) => mailView(changeMailState(ctx.store, caller, input.id, markMailRead)),
  'mail.ack': (ctx, caller, input) => mailView(changeMailState(ctx.store, caller, input.id, ackMail)),
};
