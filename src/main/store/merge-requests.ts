// Merge request writes. An MR is a bead of type merge_request plus its queue row.
import { ACTIVE_MR_STATES, type MergeRequestState } from '../../shared/domain';
import { createBead, touchBead } from './beads';
import { conflict } from '../../shared/errors';
import { assertTransition, type TransitionTable } from './status-machine';
import type { Store } from './store';
import { getMergeRequest, type MergeRequestRow } from './views';

/**
 * An MR is claimed from the queue, built, tested and merged; a running one may be blocked
 * (retried later), failed, or put back in the queue by startup recovery. `merged` is
 * allowed from every live state because it reports what git already did (a merge
 * recorded before a crash can be applied after recovery requeued its MR). A failed MR is
 * queued again only when the overseer retries it (`retryPush`, `town mq retry`).
 */
export const MR_TRANSITIONS: TransitionTable<MergeRequestState> = {
  queued: ['claimed', 'merged', 'failed'],
  claimed: ['merging', 'merged', 'blocked', 'failed', 'queued'],
  merging: ['testing', 'merged', 'blocked', 'failed', 'queued'],
  testing: ['merged', 'blocked', 'failed', 'queued'],
  blocked: ['queued', 'merged', 'failed'],
  merged: [],
  failed: ['queued'],
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
  fields: Partial<Pick<MergeRequestRow, 'claimed_at' | 'failure_type' | 'failure_tail' | 'blocked_reason' | 'retry_at' | 'candidate_sha' | 'merge_sha' | 'backup_ref' | 'resolution_bead'>> & { attempt?: boolean } = {},
) {
  const mr = getMergeRequest(store, id)!;
  assertTransition('merge request', id, MR_TRANSITIONS, mr.state, state);
  const next = { ...mr, ...fields };
  // Leaving the run (or the queue) ends the lease; a queued MR keeps the place it was moved to.
  const running = ACTIVE_MR_STATES.includes(state);
  store.run(
    `UPDATE merge_requests SET state = ?, claimed_at = ?, failure_type = ?, failure_tail = ?, blocked_reason = ?, retry_at = ?,
       candidate_sha = ?, merge_sha = ?, backup_ref = ?, resolution_bead = ?, attempts = attempts + ?, updated_at = ?,
       claimed_by = CASE WHEN ? THEN claimed_by END, lease_until = CASE WHEN ? THEN lease_until END,
       position = CASE WHEN ? THEN position END, moved_at = CASE WHEN ? THEN moved_at END WHERE id = ?`,
    state, next.claimed_at, next.failure_type, next.failure_tail, next.blocked_reason, next.retry_at,
    next.candidate_sha, next.merge_sha, next.backup_ref, next.resolution_bead, fields.attempt ? 1 : 0, store.now(),
    running ? 1 : 0, running ? 1 : 0, state === 'queued' ? 1 : 0, state === 'queued' ? 1 : 0, id,
  );
  store.event({
    type: `mr.${state}`,
    bead: mr.source_bead_id,
    payload: { mr: id, from: mr.state, ...(fields.failure_type ? { failure: fields.failure_type } : {}), ...(fields.blocked_reason ? { reason: fields.blocked_reason } : {}) },
  });
  store.touch('merge_request', id);
  touchBead(store, mr.source_bead_id);
}

/** The claim is a lease: held by `holder` until `until`, renewed by the run's progress. */
export function leaseMergeRequest(store: Store, id: string, holder: string, until: number) {
  store.run('UPDATE merge_requests SET claimed_by = ?, lease_until = ? WHERE id = ?', holder, until, id);
  store.touch('merge_request', id);
}

/** Progress of a running MR pushes its lease on; a finished or released one is left alone. */
export function renewMergeLease(store: Store, id: string, until: number) {
  store.run(`UPDATE merge_requests SET lease_until = MAX(COALESCE(lease_until, 0), ?) WHERE id = ? AND state IN ('claimed','merging','testing')`, until, id);
}

/** Put a queued MR at a place in its rig's queue (1 = next); the order module honours it. */
export function moveMergeRequest(store: Store, id: string, position: number) {
  store.run('UPDATE merge_requests SET position = ?, moved_at = ?, updated_at = ? WHERE id = ?', position, store.now(), store.now(), id);
  const mr = getMergeRequest(store, id)!;
  store.event({ type: 'mr.moved', bead: mr.source_bead_id, payload: { mr: id, position } });
  store.touch('merge_request', id);
}

/**
 * The overseer sends a failed or blocked MR back to the queue. Leaving `failed` is an explicit
 * overseer act (like a bead's reopen), so it bypasses the transition table here and only here;
 * the failure is cleared, its attempts stay (each counts against its place in the queue).
 */
export function retryMergeRequest(store: Store, id: string) {
  const mr = getMergeRequest(store, id)!;
  if (mr.state !== 'failed' && mr.state !== 'blocked') throw conflict(`${id} is ${mr.state}; only a failed or blocked MR can be retried`, 'mr');
  store.run(
    `UPDATE merge_requests SET state = 'queued', failure_type = NULL, failure_tail = NULL, blocked_reason = NULL, retry_at = NULL,
       claimed_at = NULL, claimed_by = NULL, lease_until = NULL, position = NULL, moved_at = NULL, updated_at = ? WHERE id = ?`,
    store.now(), id,
  );
  store.event({ type: 'mr.retried', bead: mr.source_bead_id, payload: { mr: id, from: mr.state } });
  store.event({ type: 'mr.queued', bead: mr.source_bead_id, payload: { mr: id, from: mr.state } });
  store.touch('merge_request', id);
  touchBead(store, mr.source_bead_id);
}

/** The overseer rejects an MR that is not running: it fails as `rejected`, with the reason as its tail. */
export function rejectMergeRequest(store: Store, id: string, reason: string) {
  const mr = getMergeRequest(store, id)!;
  if (mr.state === 'failed') {
    // Already out of the queue: only what it failed as changes.
    store.run(`UPDATE merge_requests SET failure_type = 'rejected', failure_tail = ?, updated_at = ? WHERE id = ?`, reason, store.now(), id);
    store.touch('merge_request', id);
  } else {
    if (!['queued', 'blocked'].includes(mr.state)) throw conflict(`${id} is ${mr.state}; only a queued, blocked or failed MR can be rejected`, 'mr');
    setMergeRequestState(store, id, 'failed', { failure_type: 'rejected', failure_tail: reason });
  }
  store.event({ type: 'mr.rejected', bead: mr.source_bead_id, payload: { mr: id, reason } });
}
/** A gate failed and passed on its single rerun: recorded on the MR, shown in the views. */
export function markMergeRequestFlaky(store: Store, id: string) {
  store.run('UPDATE merge_requests SET flaky = 1, updated_at = ? WHERE id = ?', store.now(), id);
  store.touch('merge_request', id);
}
