// The invariants of domain.md, checked after every tick against the store alone (no I/O).
// Each violation has a key that stays the same while the same thing is wrong, so the
// reconciler can record it once when it appears and once when it clears.
// Invariant 7 (a target branch moves only by the refinery's compare-and-swap) needs git:
// refinery/target-watch.ts checks it on a timer and before each merge, not here.
import type { InvariantViolation } from '../../shared/doctor';
import type { Store } from '../store/store';

/** Statuses in which an agent runs (or is about to run) its hooked bead. */
const LIVE_AGENT = `('starting','working','waiting','stalled')`;
/** Statuses in which an agent must own a live session. */
const RUNNING_AGENT = `('working','waiting','stalled')`;
/**
 * A session spawned for a launch that was superseded is stopped by a side effect; its exit
 * arrives a tick or more later. Only a session unowned for longer than this (counted from
 * the stop's request when there was one) is a violation.
 */
export const ORPHAN_SESSION_GRACE_MS = 60_000;

type Check = (store: Store) => InvariantViolation[];

const oneAgentPerBead: Check = (store) => [
  ...store
    .all<{ bead: string; n: number; agents: string }>(
      `SELECT hook_bead_id AS bead, count(*) AS n, group_concat(id, ', ') AS agents FROM agents
       WHERE hook_bead_id IS NOT NULL GROUP BY hook_bead_id HAVING n > 1`,
    )
    .map((r) => ({ invariant: 1, key: `1:hook:${r.bead}`, bead: r.bead, message: `${r.bead} is hooked by ${r.n} agents (${r.agents})` })),
  ...store
    .all<{ bead: string; n: number; agents: string }>(
      `SELECT bead_id AS bead, count(DISTINCT agent_id) AS n, group_concat(DISTINCT agent_id) AS agents FROM sessions
       WHERE ended_at IS NULL AND kind = 'agent' AND bead_id IS NOT NULL AND (stop_requested_at IS NULL OR stop_requested_at < ?)
       GROUP BY bead_id HAVING n > 1`,
      // A stray being stopped is given the same grace as below; past it, it counts again.
      store.now() - ORPHAN_SESSION_GRACE_MS,
    )
    .map((r) => ({ invariant: 1, key: `1:sessions:${r.bead}`, bead: r.bead, message: `${r.bead} has live sessions of ${r.n} agents (${r.agents})` })),
];

const runningAgentHasHookAndSession: Check = (store) => {
  const out: InvariantViolation[] = [];
  for (const a of store.all<{ id: string; status: string; hook: string | null; session: string | null; ended: number | null; known: string | null }>(
    `SELECT a.id, a.status, a.hook_bead_id AS hook, a.session_id AS session, s.ended_at AS ended, s.id AS known
     FROM agents a LEFT JOIN sessions s ON s.id = a.session_id WHERE a.status IN ${RUNNING_AGENT}`,
  )) {
    if (!a.hook) out.push({ invariant: 2, key: `2:no-hook:${a.id}`, agent: a.id, message: `${a.status} agent ${a.id} has no hooked bead` });
    if (!a.session || !a.known || a.ended !== null) {
      const detail = !a.session ? 'none recorded' : !a.known ? `${a.session} is not on record` : `${a.session} ended`;
      out.push({ invariant: 2, key: `2:no-session:${a.id}`, agent: a.id, ...(a.hook ? { bead: a.hook } : {}), message: `${a.status} agent ${a.id} has no live session (${detail})` });
    }
  }
  return out;
};

const liveSessionHasOwner: Check = (store) =>
  store
    .all<{ id: string; agent: string; bead: string | null; known: string | null }>(
      `SELECT s.id, s.agent_id AS agent, s.bead_id AS bead, a.id AS known FROM sessions s LEFT JOIN agents a ON a.id = s.agent_id
       WHERE s.ended_at IS NULL AND s.kind = 'agent' AND coalesce(s.stop_requested_at, s.started_at) < ?
         AND (a.id IS NULL OR a.session_id IS NOT s.id)`,
      store.now() - ORPHAN_SESSION_GRACE_MS,
    )
    .map((s) => ({
      invariant: 2,
      key: `2:orphan:${s.id}`,
      agent: s.agent,
      ...(s.bead ? { bead: s.bead } : {}),
      message: s.known ? `live session ${s.id} is not the session of its agent ${s.agent}` : `live session ${s.id} belongs to no agent (${s.agent} is not in the store)`,
    }));

const oneMergeInFlightPerRig: Check = (store) =>
  store
    .all<{ rig: string; n: number; mrs: string }>(
      // Per rig, through the (rig_id, state) index: merged MRs pile up and are never read.
      `SELECT r.id AS rig, count(*) AS n, group_concat(m.id, ', ') AS mrs FROM rigs r
       JOIN merge_requests m ON m.rig_id = r.id AND m.state IN ('merging','testing') GROUP BY r.id HAVING n > 1`,
    )
    .map((r) => ({ invariant: 3, key: `3:${r.rig}`, message: `rig ${r.rig} has ${r.n} merge requests in flight (${r.mrs})` }));

// A bead in rework is open or in progress (a failed gate) or still in review behind its
// blocked MR (a conflict, while its resolution bead runs): either way this holds.
const inReviewHasLiveMergeRequest: Check = (store) =>
  store
    .all<{ id: string }>(
      // A merge whose push failed waits for the overseer's retry (push-handlers.ts): still live.
      `SELECT b.id FROM beads b WHERE b.status = 'in_review' AND NOT EXISTS (
         SELECT 1 FROM merge_requests m JOIN beads mb ON mb.id = m.id WHERE m.source_bead_id = b.id
         AND (m.state NOT IN ('merged','failed') OR (m.state = 'failed' AND mb.labels LIKE '%"needs-retry"%')))`,
    )
    .map((b) => ({ invariant: 4, key: `4:${b.id}`, bead: b.id, message: `${b.id} is in review without a live merge request` }));

// Invariant 5 holds by construction (the bead writer's transition table); what the store
// can still show is a live agent working on a bead that is already terminal. An agent that
// said `done` on it keeps the hook until its session ends, and the merge may be quicker.
const terminalBeadHasNoLiveAgent: Check = (store) =>
  store
    .all<{ id: string; status: string; agent: string }>(
      // From the few live agents to their beads (CROSS JOIN keeps that order): closed beads are many.
      `SELECT b.id, b.status, a.id AS agent FROM agents a CROSS JOIN beads b ON b.id = a.hook_bead_id
       WHERE a.status IN ${LIVE_AGENT} AND b.status IN ('closed','failed')
         AND a.done_bead_id IS NOT b.id`,
    )
    .map((r) => ({ invariant: 5, key: `5:${r.id}`, bead: r.id, agent: r.agent, message: `${r.id} is ${r.status} but ${r.agent} still runs on it` }));

const landedConvoyIsClosed: Check = (store) =>
  store
    .all<{ id: string; open: string }>(
      // From landed convoys to their members: a backlog of open beads (thousands in staged
      // convoys) costs nothing here; the cost grows with landed history, a lookup per member.
      `SELECT c.id, group_concat(b.id || ' ' || b.status, ', ') AS open FROM convoys c
       CROSS JOIN convoy_members m ON m.convoy_id = c.id CROSS JOIN beads b ON b.id = m.bead_id
       WHERE c.status = 'landed' AND b.status <> 'closed' GROUP BY c.id`,
    )
    .map((c) => ({ invariant: 6, key: `6:${c.id}`, message: `landed convoy ${c.id} has members not closed: ${c.open}` }));

const CHECKS: Check[] = [
  oneAgentPerBead,
  runningAgentHasHookAndSession,
  liveSessionHasOwner,
  oneMergeInFlightPerRig,
  inReviewHasLiveMergeRequest,
  terminalBeadHasNoLiveAgent,
  landedConvoyIsClosed,
];

export function checkInvariants(store: Store): InvariantViolation[] {
  return CHECKS.flatMap((check) => check(store));
}
