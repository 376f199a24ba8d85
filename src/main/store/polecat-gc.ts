// Collection of idle polecats and pruning of old history, each bounded per call.
import type { Store } from './store';
import { getAgent } from './views';

/** 'checking': its worktree is being inspected, so it takes no work; 'kept': it held work. */
export function markPolecatGc(store: Store, agentId: string, state: 'checking' | 'kept' | null) {
  store.run('UPDATE agents SET gc_state = ?, gc_at = ? WHERE id = ?', state, state ? store.now() : null, agentId);
  store.touch('agent', agentId);
}

/**
 * Removes a collected polecat: its ended sessions' rows, then its own. Refused (false) unless it
 * is still idle or dead, with no hook, and under collection — dispatch cannot have taken it.
 */
export function removePolecat(store: Store, agentId: string, cause: string): boolean {
  const a = getAgent(store, agentId);
  if (!a || a.role !== 'polecat' || a.hook_bead_id || !['idle', 'dead'].includes(a.status) || a.gc_state !== 'checking') return false;
  if (store.get('SELECT 1 FROM sessions WHERE agent_id = ? AND ended_at IS NULL', agentId)) return false;
  // A bead slung to this polecat by name waits for it: removing it would strand that bead.
  if (store.get(`SELECT 1 FROM beads WHERE slung_to = ? AND status NOT IN ('closed','failed')`, agentId)) return false;
  // Its sessions' log files outlive the rows until gc.keep_logs (releaseOldSessionLogs).
  store.run(
    'INSERT OR IGNORE INTO released_logs (path, ended_at) SELECT log_path, ended_at FROM sessions WHERE agent_id = ? AND log_path IS NOT NULL AND ended_at IS NOT NULL',
    agentId,
  );
  store.run('DELETE FROM sessions WHERE agent_id = ?', agentId);
  store.run('DELETE FROM agents WHERE id = ?', agentId);
  store.event({ type: 'agent.removed', agent: agentId, payload: { cause } });
  store.touch('agent', agentId);
  return true;
}

/** Deletes up to `batch` processed events older than the newest `keep` (poisoned ones stay as evidence). */
export function pruneProcessedEvents(store: Store, keep: number, batch: number): number {
  const newest = store.get<{ seq: number | null }>('SELECT max(seq) AS seq FROM events')!.seq ?? 0;
  const before = newest - keep;
  if (before <= 0) return 0;
  return store.run(
    `DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE seq <= ? AND processed_at IS NOT NULL ORDER BY seq LIMIT ?)`,
    before, batch,
  ).changes;
}

/**
 * Forgets the log files of up to `batch` sessions that ended before `before`, those of removed
 * polecats included; returns their paths to delete.
 */
export function releaseOldSessionLogs(store: Store, before: number, batch: number): string[] {
  const rows = store.all<{ id: string; log_path: string }>(
    'SELECT id, log_path FROM sessions WHERE log_path IS NOT NULL AND ended_at IS NOT NULL AND ended_at < ? ORDER BY ended_at LIMIT ?',
    before, batch,
  );
  for (const r of rows) store.run('UPDATE sessions SET log_path = NULL WHERE id = ?', r.id);
  const released = store.all<{ path: string }>('SELECT path FROM released_logs WHERE ended_at < ? ORDER BY ended_at LIMIT ?', before, batch - rows.length);
  for (const r of released) store.run('DELETE FROM released_logs WHERE path = ?', r.path);
  return [...rows.map((r) => r.log_path), ...released.map((r) => r.path)];
}
