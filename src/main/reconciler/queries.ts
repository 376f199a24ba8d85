// What the rules may read: narrow, indexed queries over the store. Rules see only this.
import type { Store } from '../store/store';
import type { AgentRow, BeadRow, MergeRequestRow, RigRow } from '../store/views';

export interface DispatchCandidate {
  bead: BeadRow;
  convoyPosition: number | null;
}

export interface TownQueries {
  dispatchableBeads(limit: number): DispatchCandidate[];
  rig(id: string): RigRow | undefined;
  agent(id: string): AgentRow | undefined;
  /** Polecats of a rig with no hook and no live session: idle or dead. */
  availablePolecats(rigId: string): AgentRow[];
  polecatNames(rigId: string): string[];
  livePolecatCount(rigId: string | null): number;
  finishedAgentsStillRunning(doneBefore: number): AgentRow[];
  rigsWithQueuedMergeRequests(): string[];
  activeMergeRequest(rigId: string): MergeRequestRow | undefined;
  nextQueuedMergeRequest(rigId: string): MergeRequestRow | undefined;
  blockedMergeRequestsDue(now: number): MergeRequestRow[];
  convoysReadyToLand(): string[];
  orphanedInProgressBeads(): BeadRow[];
  agentsDueForRestart(now: number): AgentRow[];
  /** Live agents (working, stalled; never waiting) whose last progress is before `before`. */
  agentsWithoutProgressSince(before: number): AgentRow[];
  /** Hooked agents with no live session (starting with none, or dead with no restart due) since before `before`. */
  staleHookedAgents(before: number): AgentRow[];
}

const WORK_TYPES = `('task','bug','feature','chore')`;

export function storeQueries(store: Store): TownQueries {
  return {
    dispatchableBeads(limit) {
      return store
        .all<BeadRow & { convoy_pos: number | null }>(
          // Candidates come from what makes a bead dispatchable (slung, an auto-dispatch rig,
          // an active convoy), so beads waiting in staged convoys or the backlog cost little.
          // CROSS JOIN keeps SQLite from driving the query from all open beads instead.
          `WITH candidates(id) AS (
             SELECT id FROM beads WHERE status = 'open' AND slung_to IS NOT NULL
             UNION SELECT b.id FROM rigs r JOIN beads b ON b.rig_id = r.id AND b.status = 'open' WHERE r.auto_dispatch = 1
             UNION SELECT m.bead_id FROM convoys c CROSS JOIN convoy_members m ON m.convoy_id = c.id WHERE c.status = 'active')
           SELECT b.*, (SELECT min(m.position) FROM convoy_members m JOIN convoys c ON c.id = m.convoy_id
                        WHERE m.bead_id = b.id AND c.status = 'active') AS convoy_pos
           FROM candidates CROSS JOIN beads b ON b.id = candidates.id JOIN rigs r ON r.id = b.rig_id
           WHERE b.status = 'open' AND b.type IN ${WORK_TYPES} AND b.held_at IS NULL
             AND b.labels NOT LIKE '%"escalated"%'
             AND NOT EXISTS (SELECT 1 FROM dependencies d JOIN beads x ON x.id = d.depends_on_id
                             WHERE d.bead_id = b.id AND d.type = 'blocks' AND x.status <> 'closed')
           ORDER BY b.priority, convoy_pos IS NULL, convoy_pos, b.created_at, b.id
           LIMIT ?`,
          limit,
        )
        .map(({ convoy_pos, ...bead }) => ({ bead: bead as BeadRow, convoyPosition: convoy_pos }));
    },
    rig: (id) => store.get<RigRow>('SELECT * FROM rigs WHERE id = ?', id),
    agent: (id) => store.get<AgentRow>('SELECT * FROM agents WHERE id = ?', id),
    availablePolecats: (rigId) =>
      store.all<AgentRow>(
        `SELECT * FROM agents WHERE rig_id = ? AND role = 'polecat' AND status IN ('idle','dead')
         AND hook_bead_id IS NULL ORDER BY status = 'dead', name`,
        rigId,
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
    nextQueuedMergeRequest: (rigId) =>
      store.get<MergeRequestRow>(
        `SELECT m.* FROM merge_requests m JOIN beads b ON b.id = m.source_bead_id
         WHERE m.rig_id = ? AND m.state = 'queued' ORDER BY b.priority, m.created_at LIMIT 1`,
        rigId,
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
                           WHERE m.convoy_id = c.id AND r.state NOT IN ('merged','failed'))`,
        )
        .map((r) => r.id),
    agentsDueForRestart: (now) =>
      store.all<AgentRow>(`SELECT * FROM agents WHERE status = 'dead' AND hook_bead_id IS NOT NULL AND restart_at IS NOT NULL AND restart_at <= ?`, now),
    agentsWithoutProgressSince: (before) =>
      store.all<AgentRow>(
        `SELECT * FROM agents WHERE status IN ('working','stalled') AND hook_bead_id IS NOT NULL AND session_id IS NOT NULL
         AND done_at IS NULL AND stop_reason IS NULL AND coalesce(last_progress_at, 0) < ?`,
        before,
      ),
    staleHookedAgents: (before) =>
      store.all<AgentRow>(
        `SELECT * FROM agents WHERE hook_bead_id IS NOT NULL AND coalesce(status_since, updated_at) < ?
         AND ((status = 'starting' AND session_id IS NULL) OR (status = 'dead' AND restart_at IS NULL))`,
        before,
      ),
    orphanedInProgressBeads: () =>
      store.all<BeadRow>(
        `SELECT b.* FROM beads b WHERE b.status = 'in_progress'
         AND NOT EXISTS (SELECT 1 FROM agents a WHERE a.hook_bead_id = b.id)`,
      ),
  };
}
