// Merge request writes. An MR is a bead of type merge_request plus its queue row.
import type { MergeRequestState } from '../../shared/domain';
import { createBead, touchBead } from './beads';
import { assertTransition, type TransitionTable } from './status-machine';
import type { Store } from './store';
import { getMergeRequest, type MergeRequestRow } from './views';

/**
 * An MR is claimed from the queue, built, tested and merged; a running one may be blocked
 * (retried later), failed, or put back in the queue by startup recovery. `merged` is
 * allowed from every live state because it reports what git already did (a merge
 * recorded before a crash can be applied after recovery requeued its MR).
 */
export const MR_TRANSITIONS: TransitionTable<MergeRequestState> = {
  queued: ['claimed', 'merged', 'failed'],
  claimed: ['merging', 'merged', 'blocked', 'failed', 'queued'],
  merging: ['testing', 'merged', 'blocked', 'failed', 'queued'],
  testing: ['merged', 'blocked', 'failed', 'queued'],
  blocked: ['queued', 'merged', 'failed'],
  merged: [],
  failed: [],
};

export function queueMergeRequest(store: Store, m: { sourceBead: string; rig: string; branch: string; target: string; headSha: string | null; agent: string; title: string; priority: number }): MergeRequestRow {
  const bead = createBead(store, {
    rig: m.rig,
    type: 'merge_request',
    title: `Merge ${m.sourceBead}: ${m.title}`,
    body: '',
    priority: m.priority,
    labels: [],
    metadata: {},
    origin: { kind: 'agent', id: m.agent },
  });
  const now = store.now();
  store.run(
    `INSERT INTO merge_requests (id, source_bead_id, rig_id, branch, target, head_sha, state, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, 'queued', ?, ?)`,
    bead.id, m.sourceBead, m.rig, m.branch, m.target, m.headSha, now, now,
  );
  store.event({ type: 'mr.queued', bead: m.sourceBead, agent: m.agent, payload: { mr: bead.id, branch: m.branch, target: m.target } });
  store.touch('merge_request', bead.id);
  return getMergeRequest(store, bead.id)!;
}

export function setMergeRequestState(
  store: Store,
  id: string,
  state: MergeRequestState,
  fields: Partial<Pick<MergeRequestRow, 'claimed_at' | 'failure_type' | 'failure_tail' | 'blocked_reason' | 'retry_at' | 'candidate_sha' | 'merge_sha' | 'backup_ref'>> & { attempt?: boolean } = {},
) {
  const mr = getMergeRequest(store, id)!;
  assertTransition('merge request', id, MR_TRANSITIONS, mr.state, state);
  const next = { ...mr, ...fields };
  store.run(
    `UPDATE merge_requests SET state = ?, claimed_at = ?, failure_type = ?, failure_tail = ?, blocked_reason = ?, retry_at = ?,
       candidate_sha = ?, merge_sha = ?, backup_ref = ?, attempts = attempts + ?, updated_at = ? WHERE id = ?`,
    state, next.claimed_at, next.failure_type, next.failure_tail, next.blocked_reason, next.retry_at,
    next.candidate_sha, next.merge_sha, next.backup_ref, fields.attempt ? 1 : 0, store.now(), id,
  );
  store.event({
    type: `mr.${state}`,
    bead: mr.source_bead_id,
    payload: { mr: id, from: mr.state, ...(fields.failure_type ? { failure: fields.failure_type } : {}), ...(fields.blocked_reason ? { reason: fields.blocked_reason } : {}) },
  });
  store.touch('merge_request', id);
  touchBead(store, mr.source_bead_id);
}

/** A gate failed and passed on its single rerun: recorded on the MR, shown in the views. */
export function markMergeRequestFlaky(store: Store, id: string) {
  store.run('UPDATE merge_requests SET flaky = 1, updated_at = ? WHERE id = ?', store.now(), id);
  store.touch('merge_request', id);
}
