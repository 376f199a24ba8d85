// The reconciler's rules: pure functions from what the store says now to the actions
// that should follow. No I/O here; actions are applied in one transaction afterwards.
import type { Evidence } from '../../shared/events';
import { backoffMs, type TownConfig } from './config';
import { MAX_RERAISES } from '../store/escalations';
import { stallEvidence } from './health';
import { orderMergeQueue } from './merge-order';
import type { TownQueries } from './queries';

export type Action =
  | { type: 'dispatch'; bead: string; rig: string; agent: string; newPolecat: string | null }
  | { type: 'retire_finished_session'; agent: string }
  | { type: 'claim_merge_request'; mr: string }
  | { type: 'requeue_merge_request'; mr: string }
  | { type: 'expire_merge_lease'; mr: string; evidence: Evidence }
  | { type: 'land_convoy'; convoy: string }
  | { type: 'queue_convoy_landing'; convoy: string; rig: string }
  | { type: 'reopen_orphaned_bead'; bead: string; evidence: Evidence }
  | { type: 'resolve_orphaned_review'; bead: string; outcome: 'close' | 'fail' | 'reopen' | 'rework'; mr: string | null; evidence: Evidence }
  | { type: 'restart_agent'; agent: string }
  | { type: 'nudge_agent'; agent: string; evidence: Evidence }
  | { type: 'remind_to_finish'; agent: string; evidence: Evidence }
  | { type: 'escalate_stalled_agent'; agent: string; evidence: Evidence }
  | { type: 'stop_stalled_agent'; agent: string; evidence: Evidence }
  | { type: 'release_stale_hook'; agent: string; evidence: Evidence }
  | { type: 'reraise_escalation'; escalation: string }
  | { type: 'trip_dispatch_breaker'; evidence: Evidence }
  | { type: 'collect_polecat'; agent: string }
  | { type: 'prune_history'; events: boolean; logs: boolean }
  | { type: 'sweep_refs'; rig: string };

export interface RuleContext {
  q: TownQueries;
  now: number;
  config: TownConfig;
  /** Paused by the overseer, the breaker, or an e-stop. */
  dispatchPaused: boolean;
  /** E-stop: sessions are SIGSTOPped; nothing judges or restarts them until the thaw. */
  frozen?: boolean;
  /** MRs this engine is running now: their claims' holder is alive, whatever the lease says. */
  mergeRunsInFlight?: ReadonlySet<string>;
}

export type Rule = (ctx: RuleContext) => Action[];

const POLECAT_NAMES = [
  'quartz', 'jasper', 'onyx', 'garnet', 'topaz', 'opal', 'beryl', 'agate',
  'cobalt', 'flint', 'mica', 'pyrite', 'basalt', 'galena', 'zircon', 'jade',
];

export function nextPolecatName(taken: Set<string>): string {
  for (const n of POLECAT_NAMES) if (!taken.has(n)) return n;
  for (let i = 2; ; i++) {
    for (const n of POLECAT_NAMES) if (!taken.has(`${n}-${i}`)) return `${n}-${i}`;
  }
}

export const polecatId = (rig: string, name: string) => `${rig}/polecats/${name}`;

/** Ready, dispatchable beads → idle polecats of their rig, or new ones under capacity. */
export const dispatchReadyBeads: Rule = ({ q, now, config, dispatchPaused }) => {
  if (dispatchPaused) return [];
  const actions: Action[] = [];
  const available = new Map<string, string[]>();
  const names = new Map<string, Set<string>>();
  const liveByRig = new Map<string, number>();
  const reserved = new Map<string, Set<string>>();
  let liveInTown = q.livePolecatCount(null);
  // A reached budget holds back what it covers; agents already running go on (budgets.ts).
  const budget = q.budgetPause();
  if (budget.town) return [];

  // Only rigs with a free slot are read, each for at most as many beads as it can start.
  const townFree = config['town.max_polecats'] - liveInTown;
  const rooms = q.rigCapacities().map((r) => ({ rig: r.rig, autoDispatch: r.autoDispatch, limit: Math.min(r.max - r.live, townFree) }));
  const filter = {
    now, maxAttempts: config['dispatch.max_attempts'], backoff: config['dispatch.backoff'],
    pausedRigs: [...budget.rigs], pausedBeads: [...budget.beads],
  };
  for (const { bead } of q.dispatchableBeads(rooms, filter)) {
    // The query applied these already; checked again so the rule holds alone.
    if (budget.beads.has(bead.id) || budget.rigs.has(bead.rig_id!)) continue;
    if (bead.dispatch_attempts >= config['dispatch.max_attempts']) continue;
    if (bead.last_dispatch_at !== null && now < bead.last_dispatch_at + backoffMs(config, bead.dispatch_attempts)) continue;
    const rigId = bead.rig_id!;
    const rig = q.rig(rigId);
    if (!rig) continue;
    if (!available.has(rigId)) available.set(rigId, q.availablePolecats(rigId).map((a) => a.id));
    if (!liveByRig.has(rigId)) liveByRig.set(rigId, q.livePolecatCount(rigId));
    const pool = available.get(rigId)!;

    // Slung to a named agent: only that agent may take it.
    if (bead.slung_to && bead.slung_to.includes('/')) {
      const i = pool.indexOf(bead.slung_to);
      if (i < 0) continue;
      pool.splice(i, 1);
      liveByRig.set(rigId, liveByRig.get(rigId)! + 1);
      liveInTown++;
      actions.push({ type: 'dispatch', bead: bead.id, rig: rigId, agent: bead.slung_to, newPolecat: null });
      continue;
    }
    if (liveByRig.get(rigId)! >= rig.max_polecats || liveInTown >= config['town.max_polecats']) continue;
    // An agent a bead is slung to waits for that bead (a paused agent resumes its own conversation).
    if (!reserved.has(rigId)) reserved.set(rigId, q.reservedPolecats(rigId));
    const free = pool.findIndex((a) => !reserved.get(rigId)!.has(a));
    let agent = free < 0 ? undefined : pool.splice(free, 1)[0];
    let newPolecat: string | null = null;
    if (!agent) {
      if (!names.has(rigId)) names.set(rigId, new Set(q.polecatNames(rigId)));
      newPolecat = nextPolecatName(names.get(rigId)!);
      names.get(rigId)!.add(newPolecat);
      agent = polecatId(rigId, newPolecat);
    }
    liveByRig.set(rigId, liveByRig.get(rigId)! + 1);
    liveInTown++;
    actions.push({ type: 'dispatch', bead: bead.id, rig: rigId, agent, newPolecat });
  }
  return actions;
};

/** An agent said `done` but its session lingers (a real CLI waits for more input). */
export const retireFinishedSessions: Rule = ({ q, now, config }) =>
  q.finishedAgentsStillRunning(now - config['health.done_exit_grace']).map((a) => ({ type: 'retire_finished_session', agent: a.id }));

/** One MR at a time per rig: claim the best queued one when none is in flight. */
export const refineMergeQueue: Rule = ({ q, frozen, config }) => {
  if (frozen) return []; // an e-stop stops the merge gates too; none starts until the thaw
  const actions: Action[] = [];
  for (const rigId of q.rigsWithQueuedMergeRequests()) {
    if (q.activeMergeRequest(rigId)) continue;
    const next = orderMergeQueue(q.queuedMergeRequests(rigId), config['mq.retry_penalty'])[0];
    if (next) actions.push({ type: 'claim_merge_request', mr: next.id });
  }
  return actions;
};

/**
 * A claim is a lease renewed by its run's progress. It expires only when it ran out and its
 * holder is verified gone: no run of this engine holds it (a previous engine's claims are
 * released by startup recovery; a run cut short without a report leaves one behind).
 */
export const expireMergeLeases: Rule = ({ q, now, config, frozen, mergeRunsInFlight }) => {
  if (frozen) return []; // a frozen gate makes no progress because it is stopped
  return q
    .expiredMergeLeases(now, config['mq.lease'])
    .filter((mr) => !mergeRunsInFlight?.has(mr.id))
    .map((mr) => ({
      type: 'expire_merge_lease',
      mr: mr.id,
      evidence: {
        summary: `${mr.state} by ${mr.claimed_by ?? 'the refinery'}, no progress since ${new Date((mr.lease_until ?? now) - config['mq.lease']).toISOString()} and no run holds it; back to the queue`,
        source: 'health',
      },
    }));
};

export const retryBlockedMergeRequests: Rule = ({ q, now }) =>
  q.blockedMergeRequestsDue(now).map((mr) => ({ type: 'requeue_merge_request', mr: mr.id }));

/** Integration mode: every member is in `convoy/<id>`; one landing MR brings it to the default branch. */
export const queueConvoyLandings: Rule = ({ q }) => q.convoyLandingsDue().map((d) => ({ type: 'queue_convoy_landing', convoy: d.convoy, rig: d.rig }));

export const landCompleteConvoys: Rule = ({ q }) => q.convoysReadyToLand().map((id) => ({ type: 'land_convoy', convoy: id }));

/**
 * In progress with no agent hooked to it: nobody can be working it (hook and status change in
 * one transaction), so there is nothing to wait for; it goes back to open at once.
 */
export const reopenOrphanedBeads: Rule = ({ q }) =>
  q.orphanedInProgressBeads().map((b) => ({
    type: 'reopen_orphaned_bead',
    bead: b.id,
    evidence: { summary: `in progress but no agent holds it${b.assignee ? ` (last assigned to ${b.assignee})` : ''}`, source: 'health' },
  }));

/**
 * In review with no merge request left to run (invariant 4: done work is queued; a bead in
 * rework is open or in progress, never in review) is resolved in the tick that sees it, by what
 * its latest MR says: merged → the work is on the target, close; failed at a gate or setup →
 * back to its polecat for a fix, as the refinery's report would have sent it (rework.ts);
 * failed otherwise → the refinery already judged this work, and queuing it again would repeat
 * that, so the bead fails; none → reopen: the next dispatch finds committed work on the bead's branch and
 * offers it to the refinery instead of starting over (that needs git, which rules do not do).
 */
export const resolveReviewsWithoutMergeRequest: Rule = ({ q }) =>
  q.reviewsWithoutLiveMergeRequest().map(({ bead, mr }): Action => {
    if (mr?.state === 'merged') {
      return { type: 'resolve_orphaned_review', bead: bead.id, outcome: 'close', mr: mr.id, evidence: { summary: `in review, and ${mr.id} already merged it${mr.merge_sha ? ` as ${mr.merge_sha.slice(0, 10)}` : ''}`, source: 'health' } };
    }
    if (mr?.state === 'failed' && (mr.failure_type?.startsWith('gate:') || mr.failure_type === 'setup')) {
      return { type: 'resolve_orphaned_review', bead: bead.id, outcome: 'rework', mr: mr.id, evidence: { summary: `in review, but its merge request ${mr.id} failed at ${mr.failure_type}: back for a fix`, source: 'health' } };
    }
    if (mr?.state === 'failed') {
      return { type: 'resolve_orphaned_review', bead: bead.id, outcome: 'fail', mr: mr.id, evidence: { summary: `in review, but its merge request ${mr.id} failed (${mr.failure_type ?? 'unknown'})`, source: 'health' } };
    }
    return { type: 'resolve_orphaned_review', bead: bead.id, outcome: 'reopen', mr: null, evidence: { summary: 'in review with no merge request; reopened so its branch is offered to the refinery again', source: 'health' } };
  });

/** A run that ended without done and is due to start again on the same hook. */
export const restartDueAgents: Rule = ({ q, now, dispatchPaused }) =>
  dispatchPaused ? [] : q.agentsDueForRestart(now).map((a) => ({ type: 'restart_agent', agent: a.id }));

/**
 * GUPP: an agent with work on its hook must make progress. No progress for nudge_after →
 * stalled and nudged; escalate_after → the overseer hears; stop_after → stopped (verified)
 * and the bead reopened. Waiting agents are never nudged: they need a human, not a push.
 */
export const watchAgentHealth: Rule = ({ q, now, config, frozen }) => {
  // A frozen agent makes no progress because it is stopped; the thaw restarts its clock.
  if (frozen) return [];
  const actions: Action[] = [];
  for (const a of q.agentsWithoutProgressSince(now - config['health.nudge_after'])) {
    const idle = now - (a.last_progress_at ?? 0);
    const evidence = stallEvidence(now, a.last_progress_at ?? 0, a.nudged_at);
    if (idle >= config['health.stop_after']) actions.push({ type: 'stop_stalled_agent', agent: a.id, evidence });
    else if (idle >= config['health.escalate_after'] && a.health_escalated_at === null) actions.push({ type: 'escalate_stalled_agent', agent: a.id, evidence });
    else if (a.nudged_at === null) actions.push({ type: 'nudge_agent', agent: a.id, evidence });
  }
  return actions;
};

/** Reminders to finish before the overseer is asked instead. */
export const MAX_FINISH_REMINDERS = 3;

/**
 * GUPP for a real agent CLI: its runtime reported the turn ended, and no `town done` came.
 * It sits at its prompt; after a short grace it is reminded how to finish (a few times).
 */
export const remindIdleAgents: Rule = ({ q, now, config, frozen }) => {
  if (frozen) return [];
  return q.agentsIdleAtPromptSince(now - config['agents.idle_nudge_after']).map((a) => ({
    type: 'remind_to_finish',
    agent: a.id,
    evidence: { summary: `its turn ended ${Math.round((now - a.turn_ended_at!) / 1000)} s ago without town done`, source: 'runtime' },
  }));
};

/** Hooked but not live (never started, or dead with no restart due) for too long: the hook is released. */
export const releaseStaleHooks: Rule = ({ q, now, config }) =>
  q.staleHookedAgents(now - config['health.stale_in_progress_after']).map((a) => {
    const minutes = (since: number | null) => Math.round((now - (since ?? now)) / 60_000);
    const summary =
      a.session_ended_at !== null && a.status !== 'dead'
        ? `${a.status} on ${a.hook_bead_id}, but its session ${a.session_id} ended ${minutes(a.session_ended_at)} min ago and its exit was never applied`
        : a.status === 'starting'
          ? `starting on ${a.hook_bead_id} for ${minutes(a.status_since)} min and no session ever spawned`
          : `dead on ${a.hook_bead_id} for ${minutes(a.status_since)} min with no restart due`;
    return { type: 'release_stale_hook', agent: a.id, evidence: { summary, source: 'health' } };
  });

/** Nobody acked it within reescalate_after: it reaches the overseer again, at most twice. */
export const reraiseUnackedEscalations: Rule = ({ q, now, config }) =>
  q.escalationsDueForReraise(now - config['escalation.reescalate_after'], MAX_RERAISES).map((e) => ({ type: 'reraise_escalation', escalation: e.id }));

/**
 * Town circuit breaker: many dispatch failures in a short window mean something town-wide
 * is wrong (a missing runtime, a broken repo); dispatch pauses until the overseer resumes it,
 * and only failures after that resume count again.
 */
export const tripDispatchBreaker: Rule = ({ q, now, config, dispatchPaused }) => {
  if (dispatchPaused) return [];
  const window = config['dispatch.breaker_window'];
  const { count, lastError } = q.recentDispatchFailures(now - window);
  if (count < config['dispatch.breaker_failures']) return [];
  const minutes = Math.round(window / 60_000);
  return [{
    type: 'trip_dispatch_breaker',
    evidence: { summary: `${count} dispatch failures in ${minutes} min, last: ${lastError ?? 'unknown'}`, source: 'breaker' },
  }];
};

/** A check cut off (an engine restart) is tried again after this. */
const GC_CHECK_TIMEOUT = 10 * 60_000;

/** GC: polecats idle without a hook for gc.idle_polecat_after are collected, a few per tick. */
export const collectIdlePolecats: Rule = ({ q, now, config }) =>
  q.idlePolecatsToCollect(now - config['gc.idle_polecat_after'], now - GC_CHECK_TIMEOUT, 5).map((a) => ({ type: 'collect_polecat', agent: a.id }));

/** Old processed events and session logs are pruned in bounded batches, one per tick. */
export const pruneHistory: Rule = ({ q, now, config }) => {
  const { oldestProcessed, newest } = q.eventSeqRange();
  const events = oldestProcessed !== null && oldestProcessed <= newest - config['gc.keep_events'];
  const logs = q.hasSessionLogsEndedBefore(now - config['gc.keep_logs']);
  return events || logs ? [{ type: 'prune_history', events, logs }] : [];
};

/** How often each rig's refs are swept; the sweep itself judges ages by mq.keep_refs_for. */
export const REF_SWEEP_EVERY = 60 * 60_000;

/**
 * GC of refs: each rig's merged branches and old backup refs are swept at most once an hour
 * (ref-collector.ts), once it holds something that ended longer than mq.keep_refs_for ago.
 */
export const sweepOldRefs: Rule = ({ q, now, config, frozen }) =>
  // An e-stop holds the town's own ref writes too: the sweep waits for the thaw.
  frozen ? [] : q.rigsDueForRefSweep(now - REF_SWEEP_EVERY, now - config['mq.keep_refs_for']).map((rig) => ({ type: 'sweep_refs', rig }));

// The breaker goes first: its pause applies before this tick's dispatches, which then stand down.
export const RULES: Record<string, Rule> = {
  tripDispatchBreaker,
  dispatchReadyBeads,
  retireFinishedSessions,
  expireMergeLeases,
  refineMergeQueue,
  retryBlockedMergeRequests,
  queueConvoyLandings,
  landCompleteConvoys,
  reopenOrphanedBeads,
  resolveReviewsWithoutMergeRequest,
  restartDueAgents,
  watchAgentHealth,
  remindIdleAgents,
  releaseStaleHooks,
  reraiseUnackedEscalations,
  collectIdlePolecats,
  pruneHistory,
  sweepOldRefs,
};
