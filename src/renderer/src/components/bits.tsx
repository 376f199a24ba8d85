// Small shared pieces: status pills, priority badges, progress bars.
import type { ReactNode } from 'react';

export function Pill({ tone, children }: { tone: string; children: ReactNode }) {
  return <span className={`pill tone-${tone}`}>{children}</span>;
}

const PRIORITY_NAMES = ['P0', 'P1', 'P2', 'P3', 'P4'];
export function Priority({ value }: { value: number }) {
  return (
    <span className={`prio prio-${value}`} title={`priority ${value} (0 is most urgent)`}>
      {PRIORITY_NAMES[value] ?? `P${value}`}
    </span>
  );
}

export function Progress({ done, total, label }: { done: number; total: number; label?: string }) {
  const pct = total === 0 ? 0 : Math.round((done / total) * 100);
  return (
    <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-label={label ?? 'progress'}>
      <div className="progress-fill" style={{ width: `${pct}%` }} />
      <span className="progress-text">
        {done}/{total} · {pct}%
      </span>
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}

const AGENT_TONES: Record<string, string> = { idle: 'muted', starting: 'info', working: 'ok', waiting: 'warn', stalled: 'warn', dead: 'bad' };
export const agentTone = (s: string) => AGENT_TONES[s] ?? 'muted';
const BEAD_TONES: Record<string, string> = { open: 'muted', in_progress: 'info', in_review: 'info', closed: 'ok', failed: 'bad' };
export const beadTone = (s: string) => BEAD_TONES[s] ?? 'muted';
const MR_TONES: Record<string, string> = { queued: 'muted', claimed: 'info', merging: 'info', testing: 'info', merged: 'ok', blocked: 'warn', failed: 'bad' };
export const mrTone = (s: string) => MR_TONES[s] ?? 'muted';
