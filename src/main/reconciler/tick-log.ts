// The reconciler's recent passes, kept in memory (bounded) for `town doctor`: what each
// drained, decided and launched, how its side effects ended, and how long it took.
import type { TickMetrics, TickSummary } from '../../shared/doctor';

export const TICKS_KEPT = 100;

export class TickLog {
  private ring: TickMetrics[] = [];

  constructor(private readonly keep = TICKS_KEPT) {}

  add(t: TickMetrics) {
    this.ring.push(t);
    if (this.ring.length > this.keep) this.ring.splice(0, this.ring.length - this.keep);
  }

  get size() {
    return this.ring.length;
  }

  summary(recent = 10): TickSummary {
    const ms = this.ring.map((t) => t.ms).sort((a, b) => a - b);
    const actions: Record<string, number> = {};
    let events = 0;
    let ok = 0;
    let failed = 0;
    for (const t of this.ring) {
      events += t.events;
      ok += t.effects.ok;
      failed += t.effects.failed;
      for (const [type, n] of Object.entries(t.actions)) actions[type] = (actions[type] ?? 0) + n;
    }
    return {
      count: this.ring.length,
      p50_ms: round(ms[Math.floor((ms.length - 1) / 2)] ?? 0),
      max_ms: round(ms.at(-1) ?? 0),
      events,
      actions,
      effects_ok: ok,
      effects_failed: failed,
      recent: this.ring.slice(-recent).map((t) => ({ ...t, actions: { ...t.actions }, effects: { ...t.effects }, ms: round(t.ms) })),
    };
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;

/** "events 3, actions dispatch×2 stop×1, effects 2 launched, 4.1 ms" */
export function describeTick(t: TickMetrics): string {
  const actions = Object.entries(t.actions).map(([type, n]) => `${type}×${n}`).join(' ') || 'none';
  const launched = t.effects.ok + t.effects.failed + t.effects.pending;
  return `events ${t.events}, actions ${actions}, effects ${launched} launched, ${round(t.ms)} ms`;
}
