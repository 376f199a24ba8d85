// A merge whose push to the rig's remote never succeeded. The refinery pushes before it
// moves the local target, so nothing merged: the MR fails with the label `needs-retry`,
// its source bead stays in review (the work is fine; the remote refused or was out of
// reach), and the overseer hears. A retry queues the MR again and the refinery rebuilds,
// re-gates and pushes everything the target holds by then.
import type { EventPayload } from '../../shared/events';
import { conflict } from '../../shared/errors';
import { addBeadLabel, requireBead } from '../store/beads';
import { raiseEscalation } from '../store/escalations';
import { MR_TRANSITIONS, setMergeRequestState } from '../store/merge-requests';
import { canTransition } from '../store/status-machine';
import type { Store } from '../store/store';
import { getMergeRequest, type EventRow } from '../store/views';
import type { Effect } from './effects';
import type { HandlerContext } from './event-handlers';

export const NEEDS_RETRY = 'needs-retry';

export function refineryPushFailed({ store, config }: HandlerContext, _e: EventRow, p: EventPayload<'refinery.push_failed'>): Effect[] {
  const mr = getMergeRequest(store, p.mr);
  if (!mr || !canTransition(MR_TRANSITIONS, mr.state, 'failed')) return [];
  const why = `push of ${p.sha.slice(0, 10)} to ${p.remote}/${p.target} failed after ${p.attempts} attempt(s); ${p.target} was left as it was`;
  setMergeRequestState(store, mr.id, 'failed', { failure_type: 'push', failure_tail: `${why}\n${p.tail}` });
  addBeadLabel(store, mr.id, NEEDS_RETRY);
  const lastLines = p.tail.split('\n').slice(-10);
  raiseEscalation(
    store,
    {
      severity: 'high', source: 'refinery', agent: null, bead: mr.source_bead_id, reason: `push to ${p.remote} failed`,
      body: `${why}. Fix the remote (or pull what it has), then retry ${mr.id}.\n${p.tail}`.slice(-4000),
      evidence: { summary: why, last_lines: lastLines, source: 'refinery' },
    },
    config['escalation.cooldown'],
  );
  return [];
}

/** True when the MR failed only because its push did (the overseer may retry it). */
export function awaitsPushRetry(store: Store, mrId: string): boolean {
  const mr = getMergeRequest(store, mrId);
  const bead = mr ? requireBead(store, mr.id) : null;
  return mr?.state === 'failed' && bead !== null && (JSON.parse(bead.labels) as string[]).includes(NEEDS_RETRY);
}

/**
 * The overseer's retry of an MR whose push failed: it goes back to the queue (label
 * removed), and the refinery builds, gates, pushes and merges it again. For `town mq retry`.
 */
export function retryPush(store: Store, mrId: string) {
  if (!awaitsPushRetry(store, mrId)) throw conflict(`${mrId} is not waiting for a push retry`, 'mr');
  const bead = requireBead(store, mrId);
  const labels = (JSON.parse(bead.labels) as string[]).filter((l) => l !== NEEDS_RETRY);
  store.run('UPDATE beads SET labels = ?, updated_at = ? WHERE id = ?', JSON.stringify(labels), store.now(), mrId);
  setMergeRequestState(store, mrId, 'queued', { failure_type: null, failure_tail: null });
}
