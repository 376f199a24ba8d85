// Invariant 7's memory: per rig and target branch, the tip the refinery last set by its
// compare-and-swap ('refinery') or adopted after reporting an outside move ('outside'),
// or found when it first looked ('baseline').
import type { Store } from './store';

export type TipSetBy = 'refinery' | 'outside' | 'baseline';

export interface KnownTip {
  sha: string;
  set_by: TipSetBy;
  updated_at: number;
}

export function knownTip(store: Store, rigId: string, target: string): KnownTip | undefined {
  return store.get<KnownTip>('SELECT sha, set_by, updated_at FROM target_tips WHERE rig_id = ? AND target = ?', rigId, target);
}

export function setKnownTip(store: Store, rigId: string, target: string, sha: string, by: TipSetBy) {
  store.run(
    `INSERT INTO target_tips (rig_id, target, sha, set_by, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (rig_id, target) DO UPDATE SET sha = excluded.sha, set_by = excluded.set_by, updated_at = excluded.updated_at`,
    rigId, target, sha, by, store.now(),
  );
}
