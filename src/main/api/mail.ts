// Mail commands for agents and the overseer.
import { OVERSEER } from '../../shared/domain';
import { notFound } from '../../shared/errors';
import { sendMail } from '../store/mail';
import { getAgent, mailView, type MailRow } from '../store/views';
import { callerId, type Handlers } from './context';

export const mailHandlers: Handlers<'mail.send' | 'mail.inbox'> = {
  'mail.send': (ctx, caller, input) => {
    const { store } = ctx;
    if (input.to !== OVERSEER && !getAgent(store, input.to)) throw notFound('recipient', input.to, 'to');
    return store.transaction(() => {
      const id = sendMail(store, { from: callerId(caller), to: input.to, subject: input.subject, body: input.body, priority: input.priority, kind: 'notification' });
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
};
