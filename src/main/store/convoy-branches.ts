// Integration-mode convoys: their members merge into `convoy/<id>` (one per rig the
// members live in), through the same queue, gates and compare-and-swap as any MR; once
// every member is in, one landing MR per rig merges that branch into the rig's default
// branch, and the convoy lands when those have merged.
import { queueMergeRequest } from './merge-requests';
import { refineryAgentId } from './rigs';
import type { Store } from './store';
import type { MergeRequestRow, RigRow } from './views';

export const convoyBranch = (convoyId: string) => `convoy/${convoyId}`;
export const CONVOY_BRANCH_PREFIX = 'convoy/';

/** Where a bead's work merges: its active integration convoy's branch, else the rig's default branch. */
export function mergeTargetOf(store: Store, beadId: string, rig: Pick<RigRow, 'default_branch'>): string {
  const c = store.get<{ id: string }>(
    `SELECT c.id FROM convoy_members m JOIN convoys c ON c.id = m.convoy_id
     WHERE m.bead_id = ? AND c.status = 'active' AND c.merge_mode = 'integration' ORDER BY c.started_at, c.id LIMIT 1`,
    beadId,
  );
  return c ? convoyBranch(c.id) : rig.default_branch;
}

/** The convoy a landing MR lands (its source bead is the convoy), or null for a bead's MR. */
export function landingConvoyOf(store: Store, mr: Pick<MergeRequestRow, 'source_bead_id'>): string | null {
  return store.get<{ id: string }>('SELECT id FROM convoys WHERE id = ?', mr.source_bead_id)?.id ?? null;
}

/**
 * Queues the landing MR of `convoyId` in `rigId`: `convoy/<id>` into the default branch. It
 * merges the branch's tip as the last member merge left it, recorded now.
 */
export function queueLandingMergeRequest(store: Store, convoyId: string, rigId: string): MergeRequestRow | null {
  const rig = store.get<RigRow>('SELECT * FROM rigs WHERE id = ?', rigId);
  const convoy = store.get<{ title: string; priority: number }>('SELECT title, priority FROM beads WHERE id = ?', convoyId);
  if (!rig || !convoy) return null;
  if (store.get('SELECT 1 FROM merge_requests WHERE source_bead_id = ? AND rig_id = ?', convoyId, rigId)) return null;
  const branch = convoyBranch(convoyId);
  const last = store.get<{ merge_sha: string | null }>(
    `SELECT merge_sha FROM merge_requests WHERE rig_id = ? AND target = ? AND state = 'merged' ORDER BY updated_at DESC, rowid DESC LIMIT 1`,
    rigId, branch,
  );
  return queueMergeRequest(store, {
    sourceBead: convoyId, rig: rigId, branch, target: rig.default_branch, headSha: last?.merge_sha ?? null,
    agent: refineryAgentId(rigId), title: convoy.title, priority: convoy.priority,
  });
}
