// How a blocked MR and the bead resolving its conflict end together. The MR records its
// resolution bead (merge_requests.resolution_bead); only that bead's `done` re-queues it
// (acceptResolution). When the overseer retries or rejects the MR first, the bead is
// superseded and closed; when the bead ends first without resolving (its dispatches ran out,
// or the overseer closed it), the MR fails as a conflict and the overseer decides, so the
// convoy neither lands with the member unmerged nor waits for ever.
import { setBeadStatus } from '../store/beads';
import { raiseEscalation } from '../store/escalations';
import { setMergeRequestState } from '../store/merge-requests';
import type { Store } from '../store/store';
import { getBead, type MergeRequestRow } from '../store/views';
import type { TownConfig } from './config';

const LIVE = new Set(['open', 'in_progress', 'in_review']);

/**
 * The overseer retried or rejected `mr` (given as it was before, blocked; moved out of
 * `blocked` earlier in this transaction, so closing the bead below fails nothing): its
 * resolution bead, still live, is closed as superseded. Returns the agent holding it, which
 * the caller stops (verified) after the commit; its late `done` then finds a closed bead.
 */
export function supersedeResolution(store: Store, mr: MergeRequestRow, by: 'retry' | 'reject'): string | null {
  if (mr.state !== 'blocked' || !mr.resolution_bead) return null;
  const resolution = getBead(store, mr.resolution_bead);
  if (!resolution || !LIVE.has(resolution.status)) return null;
  const holder = store.get<{ id: string }>('SELECT id FROM agents WHERE hook_bead_id = ?', resolution.id)?.id ?? null;
  const act = by === 'retry' ? 'retried' : 'rejected';
  setBeadStatus(store, resolution.id, { status: 'closed', reason: `superseded: ${mr.id} ${act} by the overseer`, cause: `${mr.id} ${act} by the overseer` });
  store.event({ type: 'mr.resolution_superseded', bead: mr.source_bead_id, agent: holder, payload: { mr: mr.id, resolution: resolution.id, by, agent: holder } });
  return holder;
}

/**
 * A resolution bead reached closed or failed (its status event, pending only while an MR is
 * blocked on it). An MR still blocked on it was not resolved: it fails as a conflict, its
 * source bead fails with the reason, and the overseer is asked to retry or reject. Runs once
 * per event; an MR no longer blocked on this bead (re-queued, retried, rejected) is left alone.
 */
export function failUnresolvedConflict(store: Store, config: TownConfig, resolutionId: string) {
  const resolution = getBead(store, resolutionId);
  const mr = store.get<MergeRequestRow>(`SELECT * FROM merge_requests WHERE resolution_bead = ? AND state = 'blocked'`, resolutionId);
  if (!resolution || !mr || LIVE.has(resolution.status)) return;
  const status = resolution.status;
  const ended = `resolution bead ${resolution.id} ${status === 'failed' ? 'failed' : 'was closed without resolving it'}`;
  const why = `${ended}${resolution.close_reason ? ` (${resolution.close_reason})` : ''}`;
  // The reason goes last: the queue view shows a failure's last line.
  setMergeRequestState(store, mr.id, 'failed', { failure_type: 'conflict', failure_tail: `${mr.failure_tail ?? ''}\n\n${why}`.trim(), blocked_reason: null });
  if (getBead(store, mr.id)?.status === 'open') setBeadStatus(store, mr.id, { status: 'failed', reason: 'conflict', cause: why });
  store.event({ type: 'mr.resolution_failed', bead: mr.source_bead_id, payload: { mr: mr.id, resolution: resolution.id, status, reason: resolution.close_reason } });
  const source = getBead(store, mr.source_bead_id);
  if (source?.status === 'in_review') setBeadStatus(store, source.id, { status: 'failed', reason: `merge conflict unresolved: ${why}`, cause: `${mr.id} failed: ${ended}` });
  const convoys = store.all<{ convoy_id: string }>('SELECT convoy_id FROM convoy_members WHERE bead_id = ?', mr.source_bead_id).map((c) => c.convoy_id);
  const inConvoy = convoys.length ? `; convoy ${convoys.join(', ')} waits on it` : '';
  raiseEscalation(
    store,
    {
      severity: 'high', source: 'refinery', agent: null, bead: mr.source_bead_id, reason: `merge conflict of ${mr.id} left unresolved`,
      body: `${mr.id} (merge of ${mr.source_bead_id}, ${mr.branch} into ${mr.target}) failed: ${why}${inConvoy}.\n` +
        `Retry it (town mq retry ${mr.id}) to merge again, with a new resolution bead if it still conflicts, or reject it (town mq reject ${mr.id} --reason ...).`,
      evidence: { summary: `${mr.id} was blocked on ${resolution.id}, which ${status === 'failed' ? 'failed' : 'was closed'}${inConvoy}`, last_lines: (mr.failure_tail ?? '').split('\n').slice(-10), source: 'refinery' },
    },
    config['escalation.cooldown'],
  );
}

/** Whether `resolution`'s done may re-queue `mr`: it must still be the bead the MR waits on. */
export const awaitsResolution = (mr: MergeRequestRow | undefined, resolutionId: string): mr is MergeRequestRow =>
  mr?.state === 'blocked' && (mr.resolution_bead ?? resolutionId) === resolutionId;
