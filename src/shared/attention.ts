// What newly needs the overseer, for notifications (browser and desktop alike): an agent
// that started waiting, a high or critical escalation raised (or raised again) and unacked.
// Pure: callers feed it the current agents and escalations and show what it returns.
import type { AgentView, EscalationView } from './domain';

export interface AttentionAlert {
  key: string;
  title: string;
  body: string;
  /** Whose terminal a click opens. */
  agent: string | null;
}

const URGENT = new Set(['high', 'critical']);

export function attentionItems(agents: Iterable<AgentView>, escalations: Iterable<EscalationView>): AttentionAlert[] {
  const out: AttentionAlert[] = [];
  for (const a of agents) {
    if (a.status !== 'waiting') continue;
    out.push({ key: `wait:${a.id}:${a.status_since ?? ''}`, title: `${a.name} is waiting for input`, body: a.evidence?.summary ?? (a.hook ? `on ${a.hook}` : a.id), agent: a.session ? a.id : null });
  }
  for (const e of escalations) {
    if (e.acked_at !== null || !URGENT.has(e.severity)) continue;
    const who = [e.agent ?? e.source, e.bead].filter(Boolean).join(' on ');
    out.push({ key: `esc:${e.id}:${e.raised_count}`, title: `${e.severity === 'critical' ? 'Critical' : 'High'}: ${e.reason}`, body: `${who}: ${e.evidence.summary}`, agent: e.agent });
  }
  return out;
}

/** Remembers what was already shown; the first look only learns what is there (no alerts for the past). */
export class AttentionTracker {
  private seen: Set<string> | null = null;

  update(items: AttentionAlert[]): AttentionAlert[] {
    const fresh = this.seen === null ? [] : items.filter((i) => !this.seen!.has(i.key));
    this.seen = new Set(items.map((i) => i.key));
    return fresh;
  }
}
