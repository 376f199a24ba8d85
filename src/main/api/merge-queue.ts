// Merge queue commands: the queue in the order the refinery takes it, one MR in full, and the
// overseer's moves, retries and rejections.
import type { Gate, MergeQueueEntry } from '../../shared/domain';
import { describeEvent } from '../../shared/event-text';
import { conflict, notFound } from '../../shared/errors';
import { resolveRef } from '../git/merge';
import { readConfig } from '../reconciler/config';
import { awaitsPushRetry, retryPush } from '../reconciler/push-handlers';
import { orderMergeQueue } from '../reconciler/merge-order';
import { queuedMergeRequestsOf } from '../reconciler/queries';
import { reopenBead, returnToReview, setBeadStatus } from '../store/beads';
import { moveMergeRequest, rejectMergeRequest, retryMergeRequest } from '../store/merge-requests';
import type { Store } from '../store/store';
import { getBead, getMergeRequest, getRig, iso, mergeRequestView, type MergeRequestRow } from '../store/views';
import { supersedeResolution } from '../reconciler/resolution-beads';
import { stopAgent } from './agents';
import type { Handlers } from './context';

const TERMINAL = new Set(['merged', 'failed']);
/** Running first, then the queue in order, then blocked, then the finished (newest first). */
const SECTION: Record<string, number> = { claimed: 0, merging: 0, testing: 0, queued: 1, blocked: 2, failed: 3, merged: 3 };

function gateOf(store: Store, mr: MergeRequestRow): MergeQueueEntry['gate'] {
  const s = store.get<{ id: string; started_at: number }>(
    `SELECT id, started_at FROM sessions WHERE bead_id = ? AND kind = 'gate' AND ended_at IS NULL ORDER BY started_at DESC LIMIT 1`,
    mr.id,
  );
  if (!s) return null;
  // Gate sessions are named gate-<mr>-<gate name>-<time>.
  const name = s.id.slice(`gate-${mr.id}-`.length).replace(/-[a-z0-9]+$/, '');
  const gates = JSON.parse(getRig(store, mr.rig_id)?.gates ?? '[]') as Gate[];
  return { name, index: gates.findIndex((g) => g.name === name) + 1, of: gates.length, since: iso(s.started_at) };
}

function entry(store: Store, mr: MergeRequestRow, position: number | null): MergeQueueEntry {
  const end = TERMINAL.has(mr.state) ? mr.updated_at : store.now();
  return { ...mergeRequestView(mr), position, waiting_ms: Math.max(0, end - mr.created_at), gate: gateOf(store, mr) };
}

/** One rig's queue as the refinery takes it (the claim rule uses the same order). */
export function mergeQueueOf(store: Store, rigId: string): MergeQueueEntry[] {
  const queued = orderMergeQueue(queuedMergeRequestsOf(store, rigId), readConfig(store)['mq.retry_penalty']);
  const others = store
    .all<MergeRequestRow>(`SELECT * FROM merge_requests WHERE rig_id = ? AND state != 'queued' ORDER BY updated_at DESC, id`, rigId)
    .sort((a, b) => SECTION[a.state] - SECTION[b.state]);
  return [
    ...others.filter((m) => SECTION[m.state] === 0).map((m) => entry(store, m, null)),
    ...queued.map((m, i) => entry(store, m, i + 1)),
    ...others.filter((m) => SECTION[m.state] > 0).map((m) => entry(store, m, null)),
  ];
}

function requireMergeRequest(store: Store, id: string): MergeRequestRow {
  const mr = getMergeRequest(store, id);
  if (!mr) throw notFound('merge request', id, 'mr');
  return mr;
}

const entryById = (store: Store, id: string) => mergeQueueOf(store, getMergeRequest(store, id)!.rig_id).find((e) => e.id === id)!;

export const mergeQueueHandlers: Handlers<'mr.list' | 'mr.show' | 'mr.move' | 'mr.retry' | 'mr.reject'> = {
  'mr.list': (ctx, _c, input) => {
    const { store } = ctx;
    if (input.rig && !getRig(store, input.rig)) throw notFound('rig', input.rig, 'rig');
    const rigs = input.rig ? [input.rig] : store.all<{ id: string }>('SELECT id FROM rigs ORDER BY id').map((r) => r.id);
    return rigs.flatMap((r) => mergeQueueOf(store, r));
  },

  'mr.show': (ctx, _c, input) => {
    const { store } = ctx;
    const mr = requireMergeRequest(store, input.mr);
    const events = store
      .all<{ seq: number; type: string; payload: string; created_at: number }>(
        `SELECT seq, type, payload, created_at FROM events WHERE bead_id = ? AND json_extract(payload, '$.mr') = ? ORDER BY seq`,
        mr.source_bead_id, mr.id,
      )
      .map((e) => ({ seq: e.seq, type: e.type, at: iso(e.created_at), text: describeEvent(e.type, JSON.parse(e.payload)) }));
    const source = getBead(store, mr.source_bead_id);
    return { ...entryById(store, mr.id), title: source?.title ?? mr.source_bead_id, events };
  },

  'mr.move': (ctx, _c, input) => {
    const { store } = ctx;
    const mr = requireMergeRequest(store, input.mr);
    if (mr.state !== 'queued') throw conflict(`${mr.id} is ${mr.state}; only a queued MR has a place in the queue`, 'mr');
    store.transaction(() => moveMergeRequest(store, mr.id, input.position));
    ctx.wake();
    return mergeQueueOf(store, mr.rig_id).filter((e) => e.state === 'queued');
  },

  'mr.retry': async (ctx, _c, input) => {
    const { store } = ctx;
    const mr = requireMergeRequest(store, input.mr);
    const live = store.get<{ id: string }>(
      `SELECT id FROM merge_requests WHERE source_bead_id = ? AND id != ? AND state NOT IN ('merged','failed')`,
      mr.source_bead_id, mr.id,
    );
    if (live) throw conflict(`${mr.source_bead_id} already has ${live.id} in the queue`, 'mr');
    const source = getBead(store, mr.source_bead_id);
    if (source?.status === 'in_progress') throw conflict(`${source.id} is being reworked; its next \`town done\` queues a new MR`, 'mr');
    // A landing MR merges what its convoy branch holds now: a fix may have been committed there.
    const landing = source?.type === 'convoy';
    const tip = landing ? await resolveRef({ dir: getRig(store, mr.rig_id)!.path }, `refs/heads/${mr.branch}`) : null;
    const holder = store.transaction(() => {
      if (awaitsPushRetry(store, mr.id)) retryPush(store, mr.id);
      else retryMergeRequest(store, mr.id);
      const superseded = supersedeResolution(store, mr, 'retry');
      if (tip) store.run('UPDATE merge_requests SET head_sha = ? WHERE id = ?', tip, mr.id);
      if (getBead(store, mr.id)?.status === 'failed') reopenBead(store, mr.id, 'merge retried by overseer');
      // The convoy's own bead is not work in review: its MR is tracked by the convoy.
      if (source && !landing) returnToReview(store, source.id, `merge ${mr.id} retried by overseer`);
      return superseded;
    });
    if (holder) await stopAgent(ctx, holder, { hold: false });
    ctx.wake();
    return entryById(store, mr.id);
  },

  'mr.reject': async (ctx, _c, input) => {
    const { store } = ctx;
    const mr = requireMergeRequest(store, input.mr);
    const holder = store.transaction(() => {
      rejectMergeRequest(store, mr.id, input.reason);
      const superseded = supersedeResolution(store, mr, 'reject');
      if (getBead(store, mr.id)?.status === 'open') setBeadStatus(store, mr.id, { status: 'failed', reason: 'rejected', cause: `rejected: ${input.reason}` });
      const source = getBead(store, mr.source_bead_id);
      const cause = `merge ${mr.id} rejected by overseer: ${input.reason}`;
      if (source?.status === 'in_review') setBeadStatus(store, source.id, { status: 'open', assignee: null, cause });
      else if (source?.status === 'failed') reopenBead(store, source.id, cause);
      return superseded;
    });
    // Stopped like `town stop`: kill verified, then the agent is released; the closed bead is not reopened.
    if (holder) await stopAgent(ctx, holder, { hold: false });
    ctx.wake();
    return entryById(store, mr.id);
  },
};
