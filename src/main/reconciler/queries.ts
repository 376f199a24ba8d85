// What the rules may read: narrow, indexed queries over the store. Rules see only this.
import type { EscalationRow } from '../store/escalations';
import { beadsCoveredByConvoys, reachedBudgets } from '../store/budgets';
import { dispatchFailuresSince, lastDispatchResumeSeq } from '../store/dispatch-pause';
import { dispatchCandidates, type DispatchCandidate, type DispatchFilter, type RigRoom } from './dispatch-candidates';
import type { Store } from '../store/store';
import type { AgentRow, BeadRow, MergeRequestRow, RigRow } from '../store/views';
import type { QueuedMergeRequest } from './merge-order';

export type QueuedMergeRequestRow = MergeRequestRow & QueuedMergeRequest;

/** A rig's queued MRs with what their order needs (unordered: see orderMergeQueue). */
export function queuedMergeRequestsOf(store: Store, rigId: string): QueuedMergeRequestRow[] {
  return store.all<QueuedMergeRequestRow>(
    `SELECT m.*, b.priority,
       (SELECT MIN(COALESCE(c.started_at, cb.created_at)) FROM convoy_members cm JOIN convoys c ON c.id = cm.convoy_id
          JOIN beads cb ON cb.id = c.id WHERE cm.bead_id = m.source_bead_id) AS convoy_since
     FROM merge_requests m JOIN beads b ON b.id = m.source_bead_id
     WHERE m.rig_id = ? AND m.state = 'queued'`,
    rigId,
  );
}


export type { DispatchCandidate };

export interface TownQueries {
  /** What may start this pass, in dispatch order: see dispatch-candidates.ts. */
  dispatchableBeads(rooms: RigRoom[], filter: DispatchFilter): DispatchCandidate[];
  /** Each rig's polecat capacity and live polecats (hooked, or with a session). */
  rigCapacities(): { rig: string; max: number; live: number; autoDispatch: boolean }[];
  /** What reached budgets hold back from dispatch: the whole town, rigs, and convoys' beads. */
  budgetPause(): { town: boolean; rigs: Set<string>; beads: Set<string> };
  rig(id: string): RigRow | undefined;
  agent(id: string): AgentRow | undefined;
  /** Polecats of a rig with no hook and no live session: idle or dead. */
  availablePolecats(rigId: string): AgentRow[];
  /** Polecats an open bead is slung to by name (e.g. a paused agent's own bead, held): kept for that bead. */
  reservedPolecats(rigId: string): Set<string>;
  polecatNames(rigId: string): string[];
  livePolecatCount(rigId: string | null): number;
  finishedAgentsStillRunning(doneBefore: number): AgentRow[];
  rigsWithQueuedMergeRequests(): string[];
  activeMergeRequest(rigId: string): MergeRequestRow | undefined;
  queuedMergeRequests(rigId: string): QueuedMergeRequestRow[];
  /** Claimed, merging or testing, whose lease ran out by `now`. */
  expiredMergeLeases(now: number, leaseMs: number): MergeRequestRow[];
  blockedMergeRequestsDue(now: number): MergeRequestRow[];
  convoysReadyToLand(): string[];
  /** Integration convoys whose members are all in `convoy/<id>`, by rig, with no landing MR yet. */
  convoyLandingsDue(): { convoy: string; rig: string }[];
  orphanedInProgressBeads(): BeadRow[];
  agentsDueForRestart(now: number): AgentRow[];
  /** Live agents (working, stalled; never waiting) whose last progress is before `before`. */
  agentsWithoutProgressSince(before: number): AgentRow[];
  /** Agents whose runtime ended its turn at or before `before` without `town done`, not reminded since. */
  agentsIdleAtPromptSince(before: number): AgentRow[];
  /** Unacked escalations last raised at or before `before` and re-raised fewer than `maxReraises` times. */
  escalationsDueForReraise(before: number, maxReraises: number): EscalationRow[];
  /**
   * Hooked agents with no live session since before `before`: starting with none, dead with
   * no restart due, or holding a session recorded as ended whose exit was never applied.
   */
  staleHookedAgents(before: number): (AgentRow & { session_ended_at: number | null })[];
  /** Idle or dead polecats without a hook since before `before`, not yet collected (or whose check was cut off). */
  idlePolecatsToCollect(before: number, checkCutOffBefore: number, limit: number): AgentRow[];
  /** Seq of the oldest processed event, and the newest seq. */
  eventSeqRange(): { oldestProcessed: number | null; newest: number };
  /** Whether some session that ended before `before` still has its log file. */
  hasSessionLogsEndedBefore(before: number): boolean;
  /**
   * Rigs whose refs were last swept at or before `sweptBefore` (or never) and that hold
   * something that ended before `endedBefore` (an MR, a bead, a landed convoy): a young town
   * has nothing old enough to sweep, and is not swept.
   */
  rigsDueForRefSweep(sweptBefore: number, endedBefore: number): string[];
  /** In review, no agent holding it, and no merge request still to run; with its latest MR if any. */
  reviewsWithoutLiveMergeRequest(): { bead: BeadRow; mr: MergeRequestRow | null }[];
  /** Dispatch failures since `since` that came after the overseer last resumed dispatch. */
  recentDispatchFailures(since: number): { count: number; lastError: string | null };
}

/** Setting `gc.refs_swept_at.<rig>`: when the rig's refs were last swept (rule sweepOldRefs). */
export const REF_SWEEP_SETTING = 'gc.refs_swept_at.';

export function storeQueries(store: Store): TownQueries {
  return {
    dispatchableBeads: (rooms, filter) => dispatchCandidates(store, rooms, filter),
    rigCapacities: () =>
      store.all<{ rig: string; max: number; live: number; auto: number }>(
        `SELECT r.id AS rig, r.max_polecats AS max, r.auto_dispatch AS auto,
           (SELECT count(*) FROM agents a WHERE a.rig_id = r.id AND a.role = 'polecat' AND (a.hook_bead_id IS NOT NULL OR a.status NOT IN ('idle','dead'))) AS live
         FROM rigs r ORDER BY r.id`,
      ).map((r) => ({ rig: r.rig, max: r.max, live: r.live, autoDispatch: r.auto === 1 })),
    budgetPause() {
      const reached = reachedBudgets(store);
      return { town: reached.town, rigs: reached.rigs, beads: beadsCoveredByConvoys(store, reached.convoys) };
    },
    rig: (id) => store.get<RigRow>('SELECT * FROM rigs WHERE id = ?', id),
    agent: (id) => store.get<AgentRow>('SELECT * FROM agents WHERE id = ?', id),
    availablePolecats: (rigId) =>
      store.all<AgentRow>(
        `SELECT * FROM agents WHERE rig_id = ? AND role = 'polecat' AND status IN ('idle','dead')
         AND hook_bead_id IS NULL AND gc_state IS NOT 'checking' ORDER BY status = 'dead', name`,
        rigId,
      ),
    reservedPolecats: (rigId) =>
      new Set(
        store
          // Through the slung index (few rows): by rig it read every live bead, 3 ms at 10k and 30 ms at 100k per dispatch.
          .all<{ slung_to: string }>(
            `SELECT DISTINCT slung_to FROM beads INDEXED BY beads_slung
             WHERE slung_to IS NOT NULL AND slung_to LIKE '%/%' AND rig_id = ? AND status NOT IN ('closed','failed')`,
            rigId,
          )
          .map((r) => r.slung_to),
      ),
    polecatNames: (rigId) => store.all<{ name: string }>(`SELECT name FROM agents WHERE rig_id = ? AND role = 'polecat'`, rigId).map((r) => r.name),
    livePolecatCount: (rigId) =>
      rigId === null
        ? store.get<{ n: number }>(`SELECT count(*) AS n FROM agents WHERE role = 'polecat' AND (hook_bead_id IS NOT NULL OR status NOT IN ('idle','dead'))`)!.n
        : store.get<{ n: number }>(
            `SELECT count(*) AS n FROM agents WHERE rig_id = ? AND role = 'polecat' AND (hook_bead_id IS NOT NULL OR status NOT IN ('idle','dead'))`,
            rigId,
          )!.n,
    finishedAgentsStillRunning: (doneBefore) =>
      store.all<AgentRow>(
        `SELECT a.* FROM agents a JOIN sessions s ON s.id = a.session_id
         WHERE a.done_at IS NOT NULL AND a.done_at <= ? AND s.ended_at IS NULL AND a.stop_reason IS NULL`,
        doneBefore,
      ),
    rigsWithQueuedMergeRequests: () => store.all<{ rig_id: string }>(`SELECT DISTINCT rig_id FROM merge_requests WHERE state = 'queued'`).map((r) => r.rig_id),
    activeMergeRequest: (rigId) =>
      store.get<MergeRequestRow>(`SELECT * FROM merge_requests WHERE rig_id = ? AND state IN ('claimed','merging','testing') LIMIT 1`, rigId),
    queuedMergeRequests: (rigId) => queuedMergeRequestsOf(store, rigId),
    expiredMergeLeases: (now, leaseMs) =>
      store.all<MergeRequestRow>(
        `SELECT * FROM merge_requests WHERE state IN ('claimed','merging','testing')
           AND COALESCE(lease_until, COALESCE(claimed_at, updated_at) + ?) <= ?`,
        leaseMs, now,
      ),
    blockedMergeRequestsDue: (now) =>
      store.all<MergeRequestRow>(`SELECT * FROM merge_requests WHERE state = 'blocked' AND retry_at IS NOT NULL AND retry_at <= ?`, now),
    convoysReadyToLand: () =>
      store
        .all<{ id: string }>(
          `SELECT c.id FROM convoys c WHERE c.status = 'active'
           AND EXISTS (SELECT 1 FROM convoy_members m WHERE m.convoy_id = c.id)
           AND NOT EXISTS (SELECT 1 FROM convoy_members m JOIN beads b ON b.id = m.bead_id
                           WHERE m.convoy_id = c.id AND b.status <> 'closed')
           AND NOT EXISTS (SELECT 1 FROM convoy_members m JOIN merge_requests r ON r.source_bead_id = m.bead_id
                           WHERE m.convoy_id = c.id AND r.state NOT IN ('merged','failed'))
           -- Integration mode: lands when its landing MRs have merged (one per rig that got member merges).
           AND NOT EXISTS (SELECT 1 FROM merge_requests l WHERE l.source_bead_id = c.id AND l.state <> 'merged')
           AND NOT EXISTS (SELECT 1 FROM merge_requests r WHERE r.target = 'convoy/' || c.id AND r.state = 'merged'
                           AND NOT EXISTS (SELECT 1 FROM merge_requests l WHERE l.source_bead_id = c.id AND l.rig_id = r.rig_id))`,
        )
        .map((r) => r.id),
    convoyLandingsDue: () =>
      store.all<{ convoy: string; rig: string }>(
        `SELECT DISTINCT c.id AS convoy, r.rig_id AS rig FROM convoys c
         JOIN merge_requests r ON r.target = 'convoy/' || c.id AND r.state = 'merged'
         WHERE c.status = 'active' AND c.merge_mode = 'integration'
           AND NOT EXISTS (SELECT 1 FROM convoy_members m JOIN beads b ON b.id = m.bead_id
                           WHERE m.convoy_id = c.id AND b.status <> 'closed')
           AND NOT EXISTS (SELECT 1 FROM convoy_members m JOIN merge_requests x ON x.source_bead_id = m.bead_id
                           WHERE m.convoy_id = c.id AND x.state NOT IN ('merged','failed'))
           AND NOT EXISTS (SELECT 1 FROM merge_requests l WHERE l.source_bead_id = c.id AND l.rig_id = r.rig_id)`,
      ),
    agentsDueForRestart: (now) =>
      store.all<AgentRow>(`SELECT * FROM agents WHERE status = 'dead' AND hook_bead_id IS NOT NULL AND restart_at IS NOT NULL AND restart_at <= ?`, now),
    agentsIdleAtPromptSince: (before) =>
      store.all<AgentRow>(
        `SELECT * FROM agents WHERE turn_ended_at IS NOT NULL AND turn_ended_at <= ? AND status IN ('working','stalled')
         AND hook_bead_id IS NOT NULL AND session_id IS NOT NULL AND done_at IS NULL AND stop_reason IS NULL
         AND (nudged_at IS NULL OR nudged_at < turn_ended_at)`,
        before,
      ),
    agentsWithoutProgressSince: (before) =>
      store.all<AgentRow>(
        `SELECT * FROM agents WHERE status IN ('working','stalled') AND hook_bead_id IS NOT NULL AND session_id IS NOT NULL
         AND done_at IS NULL AND stop_reason IS NULL AND coalesce(last_progress_at, 0) < ?`,
        before,
      ),
    staleHookedAgents: (before) =>
      store.all<AgentRow & { session_ended_at: number | null }>(
        `SELECT a.*, s.ended_at AS session_ended_at FROM agents a LEFT JOIN sessions s ON s.id = a.session_id
         WHERE a.hook_bead_id IS NOT NULL AND (
           (coalesce(a.status_since, a.updated_at) < ? AND ((a.status = 'starting' AND a.session_id IS NULL) OR (a.status = 'dead' AND a.restart_at IS NULL)))
           OR (a.status NOT IN ('dead','idle') AND s.ended_at IS NOT NULL AND s.ended_at < ?))`,
        before, before,
      ),
    escalationsDueForReraise: (before, maxReraises) =>
      store.all<EscalationRow>(
        `SELECT * FROM escalations WHERE acked_at IS NULL AND last_raised_at <= ? AND raised_count <= ? ORDER BY last_raised_at LIMIT 200`,
        before, maxReraises,
      ),
    idlePolecatsToCollect: (before, checkCutOffBefore, limit) =>
      store.all<AgentRow>(
        `SELECT * FROM agents WHERE role = 'polecat' AND status IN ('idle','dead') AND hook_bead_id IS NULL
         AND coalesce(status_since, updated_at) < ?
         AND (gc_state IS NULL OR (gc_state = 'kept' AND gc_at < coalesce(status_since, updated_at)) OR (gc_state = 'checking' AND gc_at < ?))
         AND NOT EXISTS (SELECT 1 FROM beads b WHERE b.slung_to = agents.id AND b.status NOT IN ('closed','failed'))
         ORDER BY coalesce(status_since, updated_at) LIMIT ?`,
        before, checkCutOffBefore, limit,
      ),
    eventSeqRange: () => ({
      oldestProcessed: store.get<{ seq: number }>('SELECT seq FROM events WHERE processed_at IS NOT NULL ORDER BY seq LIMIT 1')?.seq ?? null,
      newest: store.get<{ seq: number | null }>('SELECT max(seq) AS seq FROM events')!.seq ?? 0,
    }),
    hasSessionLogsEndedBefore: (before) =>
      store.get('SELECT 1 FROM sessions WHERE log_path IS NOT NULL AND ended_at IS NOT NULL AND ended_at < ? LIMIT 1', before) !== undefined ||
      store.get('SELECT 1 FROM released_logs WHERE ended_at < ? LIMIT 1', before) !== undefined,
    rigsDueForRefSweep: (sweptBefore, endedBefore) =>
      store
        .all<{ id: string }>(
          `SELECT r.id FROM rigs r LEFT JOIN settings s ON s.key = '${REF_SWEEP_SETTING}' || r.id
           WHERE (s.key IS NULL OR CAST(s.value AS INTEGER) <= ?)
             AND (EXISTS (SELECT 1 FROM merge_requests m WHERE m.rig_id = r.id AND m.state IN ('merged','failed') AND m.updated_at < ?)
               OR EXISTS (SELECT 1 FROM beads b WHERE b.rig_id = r.id AND b.status IN ('closed','failed') AND b.updated_at < ?)
               OR EXISTS (SELECT 1 FROM convoys c WHERE c.status = 'landed' AND c.landed_at < ?))
           ORDER BY r.id`,
          sweptBefore, endedBefore, endedBefore, endedBefore,
        )
        .map((r) => r.id),
    reviewsWithoutLiveMergeRequest: () =>
      store
        .all<BeadRow & { mr_id: string | null }>(
          `SELECT b.*, (SELECT m.id FROM merge_requests m WHERE m.source_bead_id = b.id ORDER BY m.created_at DESC, m.id DESC LIMIT 1) AS mr_id
           FROM beads b WHERE b.status = 'in_review' AND b.type != 'convoy'
           AND NOT EXISTS (SELECT 1 FROM merge_requests m WHERE m.source_bead_id = b.id AND m.state NOT IN ('merged','failed'))
           -- A push that failed waits for the overseer's retry; its bead stays in review.
           AND NOT EXISTS (SELECT 1 FROM merge_requests m JOIN beads mb ON mb.id = m.id
                           WHERE m.source_bead_id = b.id AND m.state = 'failed' AND mb.labels LIKE '%"needs-retry"%')
           AND NOT EXISTS (SELECT 1 FROM agents a WHERE a.hook_bead_id = b.id)`,
        )
        .map(({ mr_id, ...bead }) => ({
          bead: bead as BeadRow,
          mr: mr_id ? store.get<MergeRequestRow>('SELECT * FROM merge_requests WHERE id = ?', mr_id)! : null,
        })),
    recentDispatchFailures: (since) => dispatchFailuresSince(store, since, lastDispatchResumeSeq(store)),
    orphanedInProgressBeads: () =>
      store.all<BeadRow>(
        `SELECT b.* FROM beads b WHERE b.status = 'in_progress'
         AND NOT EXISTS (SELECT 1 FROM agents a WHERE a.hook_bead_id = b.id)`,
      ),
  };
}
