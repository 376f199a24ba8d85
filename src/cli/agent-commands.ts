// The commands agents run in their sessions (`town hook`, `done`, `mail`, …). Part of the
// agent-side CLI: imports here must stay light (no engine, SQLite, PTYs or git).
import type { Parsed } from './args';
import { str } from './args';
import { UsageError } from './errors';
import * as fmt from './format';
import { line, print } from './printable';
import type { TypedClient } from '../shared/typed-client';

/** Runs an agent command; null when `command` is not one. */
export async function agentCommand(conn: TypedClient, command: string, a: Parsed): Promise<number | null> {
  const v = a.values;
  const json = !!v.json;
  const [p0] = a.positionals;
  const need = (x: string | undefined, usage: string) => {
    if (!x) throw new UsageError(`usage: town ${usage}`);
    return x;
  };

  switch (command) {
    case 'prime': {
      const p = await conn.call('agent.prime', {});
      print(json, p, () => p.role_prompt);
      return 0;
    }
    case 'hook': {
      const h = await conn.call('agent.hook', {});
      print(json, h, () => (h.bead ? fmt.beadDetail(h.bead) : 'your hook is empty'));
      return 0;
    }
    case 'done': {
      const bead = str(v.bead) ?? process.env.TOWN_BEAD;
      if (!bead) throw new UsageError('no bead: run inside an agent session (TOWN_BEAD) or pass --bead ID');
      const r = await conn.call('agent.done', { bead, status: str(v.status) as 'completed' | undefined, summary: str(v.summary) });
      print(json, r, () => (r.merge_request ? line`done: ${bead} queued for merge as ${r.merge_request.id}` : line`done: ${bead} (${str(v.status) ?? 'completed'})`));
      return 0;
    }
    case 'signal': {
      const state = need(p0, 'signal waiting|working [MESSAGE]');
      if (state !== 'waiting' && state !== 'working') throw new UsageError(`signal: state must be waiting or working, not "${state}"`);
      await conn.call('agent.signal', { state, message: a.positionals.slice(1).join(' ') || undefined });
      print(json, { state }, () => line`signalled: ${state}`);
      return 0;
    }
    case 'mail send': {
      const m = await conn.call('mail.send', { to: need(p0, 'mail send TO --subject S --body B'), subject: str(v.subject) ?? '', body: str(v.body) });
      print(json, m, () => line`sent ${m.id} to ${m.to}`);
      return 0;
    }
    case 'mail inbox': {
      const mail = await conn.call('mail.inbox', { unread: v.unread === true ? true : undefined });
      print(json, mail, () => fmt.mailTable(mail));
      return 0;
    }
    case 'mail read': {
      const m = await conn.call('mail.read', { id: need(p0, 'mail read ID') });
      print(json, m, () => fmt.mailDetail(m));
      return 0;
    }
    case 'mail ack': {
      const m = await conn.call('mail.ack', { id: need(p0, 'mail ack ID') });
      print(json, m, () => line`acked ${m.id}`);
      return 0;
    }
    case 'escalate': {
      const usage = 'escalate --severity low|medium|high|critical --reason R [--bead B] TEXT';
      const r = await conn.call('escalation.raise', {
        severity: str(v.severity) as 'high' | undefined, reason: need(str(v.reason), usage), bead: str(v.bead), body: need(a.positionals.join(' '), usage),
      });
      print(json, r, () => (r.deduplicated ? line`already escalated as ${r.escalation.id} (not acked yet, or within the cooldown)` : line`escalated ${r.escalation.id} (${r.escalation.severity})`));
      return 0;
    }
  }
  return null;
}
