// Whether the town dispatches new work, and why not. The `dispatch_paused` setting is the
// switch; the reason (with evidence when the circuit breaker threw it) is kept beside it so
// `town status` can say why, and each change is an event.
import type { Evidence } from '../../shared/events';
import type { Store } from './store';

export interface DispatchPause {
  by: string;
  reason: string;
  evidence: Evidence | null;
  since: number;
}

export const isDispatchPaused = (store: Store) => store.setting('dispatch_paused', false);

export function dispatchPause(store: Store): DispatchPause | null {
  if (!isDispatchPaused(store)) return null;
  return store.setting<DispatchPause | null>('dispatch_paused_reason', null) ?? { by: 'overseer', reason: 'paused by the overseer', evidence: null, since: 0 };
}

export function pauseDispatch(store: Store, p: { by: string; reason: string; evidence?: Evidence }) {
  store.setSetting('dispatch_paused', true);
  store.setSetting('dispatch_paused_reason', { by: p.by, reason: p.reason, evidence: p.evidence ?? null, since: store.now() } satisfies DispatchPause);
  store.event({ type: 'dispatch.paused', payload: { by: p.by, reason: p.reason, ...(p.evidence ? { evidence: p.evidence } : {}) } });
}

export function resumeDispatch(store: Store, by: string) {
  store.setSetting('dispatch_paused', false);
  store.setSetting('dispatch_paused_reason', null);
  store.event({ type: 'dispatch.resumed', payload: { by } });
}

/** The seq of the last resume: failures before it were already answered by the overseer. */
export function lastDispatchResumeSeq(store: Store): number {
  return store.get<{ seq: number | null }>(`SELECT max(seq) AS seq FROM events WHERE type = 'dispatch.resumed'`)!.seq ?? 0;
}

/**
 * Dispatch failures after `afterSeq` and since `since`: spawns that failed (not ones cut off
 * by a restart), and sessions whose shell could not find or run the runtime's command
 * (exit 127 / 126: the runtime never started).
 */
export function dispatchFailuresSince(store: Store, since: number, afterSeq: number): { count: number; lastError: string | null } {
  const where = `type IN ('session.spawn_failed', 'session.exited') AND created_at >= ? AND seq > ?
    AND CASE type WHEN 'session.spawn_failed' THEN json_extract(payload, '$.interrupted') IS NOT 1
                  ELSE json_extract(payload, '$.exit_code') IN (126, 127) END`;
  const count = store.get<{ n: number }>(`SELECT count(*) AS n FROM events WHERE ${where}`, since, afterSeq)!.n;
  if (count === 0) return { count, lastError: null };
  const last = store.get<{ payload: string }>(`SELECT payload FROM events WHERE ${where} ORDER BY seq DESC LIMIT 1`, since, afterSeq)!;
  const p = JSON.parse(last.payload) as { error?: string; exit_code?: number; tail?: string };
  if (p.error) return { count, lastError: p.error };
  const lastLine = (p.tail ?? '').split('\n').map((l) => l.trim()).filter(Boolean).pop();
  return { count, lastError: `the runtime exited ${p.exit_code}${lastLine ? ` (${lastLine})` : ''}` };
}
