// What the dispatcher may start this pass, read so that its cost follows free capacity, not
// town size: a rig with no free slot is not read at all, and a rig with k free slots yields at
// most its k first dispatchable beads, found by walking an index in dispatch order (LIMIT k).
// Every filter the dispatcher applies is in the SQL, so a bead the walk counts is one it would
// start; then the first k of each stream hold the first k of the rig. Ready is readySql, the
// one rule (store/ready.ts).
import { readySql } from '../store/ready';
import type { Store } from '../store/store';
import type { BeadRow } from '../store/views';

export interface DispatchCandidate {
  bead: BeadRow;
  convoyPosition: number | null;
}

/** A rig with free polecat slots: at most `limit` of its beads can start this pass. */
export interface RigRoom {
  rig: string;
  limit: number;
  autoDispatch: boolean;
}

export interface DispatchFilter {
  now: number;
  maxAttempts: number;
  /** dispatch.backoff: the wait before attempt n+1 is backoff[min(n, last)]. */
  backoff: number[];
  /** Rigs held back by a reached budget. */
  pausedRigs: string[];
  /** Beads held back by a reached convoy budget. */
  pausedBeads: string[];
}

/** Dispatchable, apart from capacity: ready, not held, not escalated, attempts left, backoff over, no budget pause. */
// Epics are ready work in bd's sense (the Board lists them) but are delivered by their children: no agent takes one.
const dispatchableSql = (b: string) => `${readySql(b)} AND ${b}.type <> 'epic' AND ${b}.held_at IS NULL AND ${b}.labels NOT LIKE '%"escalated"%'
  AND ${b}.dispatch_attempts < @maxAttempts
  AND (${b}.last_dispatch_at IS NULL OR ${b}.dispatch_attempts <= 0
       OR ${b}.last_dispatch_at + coalesce(json_extract(@backoff, '$[' || min(${b}.dispatch_attempts, json_array_length(@backoff) - 1) || ']'), 0) <= @now)
  AND ${b}.rig_id NOT IN (SELECT value FROM json_each(@pausedRigs))
  AND ${b}.id NOT IN (SELECT value FROM json_each(@pausedBeads))`;

const inActiveConvoy = (b: string) =>
  `EXISTS (SELECT 1 FROM convoy_members m JOIN convoys c ON c.id = m.convoy_id WHERE m.bead_id = ${b}.id AND c.status = 'active')`;

/**
 * Candidates in dispatch order (priority, convoy position, age, id). Beads slung to a named
 * agent skip capacity (few: beads_slung), so all of them come; for each room: its slung-to-rig
 * beads, the first `limit` of its active convoys' members, and for an auto-dispatch rig the
 * first `limit` of its other open beads (beads_dispatch_order walked in order).
 */
export function dispatchCandidates(store: Store, rooms: RigRoom[], f: DispatchFilter): DispatchCandidate[] {
  // A rig with room whose walk found nothing walks all its open beads each pass: remembered
  // until something that can free a bead is written, or time alone may have (a backoff ends).
  let empty = fruitlessWalks.get(store);
  if (!empty) fruitlessWalks.set(store, (empty = new Map()));
  const revision = store.workRevision;
  const walked = rooms.map((r) => {
    const seen = empty.get(r.rig);
    const skip = r.autoDispatch && seen !== undefined && seen.revision === revision && f.now - seen.at < FRUITLESS_WALK_MS;
    return skip ? { ...r, autoDispatch: false } : r;
  });
  const { sql, params } = dispatchCandidatesSql(walked, f);
  const rows = store.all<BeadRow & { convoy_pos: number | null }>(sql, params);
  for (const r of walked) {
    if (!r.autoDispatch || r.limit <= 0) continue;
    if (rows.some((b) => b.rig_id === r.rig)) empty.delete(r.rig);
    else empty.set(r.rig, { revision, at: f.now });
  }
  return rows.map(({ convoy_pos, ...bead }) => ({ bead: bead as BeadRow, convoyPosition: convoy_pos }));
}

/** How long a fruitless walk is trusted without any write: bounds what a change without a touch could delay. */
const FRUITLESS_WALK_MS = 2000;
const fruitlessWalks = new WeakMap<Store, Map<string, { revision: number; at: number }>>();

export function dispatchCandidatesSql(rooms: RigRoom[], f: DispatchFilter) {
  const params: Record<string, unknown> = {
    now: f.now, maxAttempts: f.maxAttempts, backoff: JSON.stringify(f.backoff.length ? f.backoff : [0]),
    pausedRigs: JSON.stringify(f.pausedRigs), pausedBeads: JSON.stringify(f.pausedBeads),
  };
  const streams = [`SELECT id FROM beads INDEXED BY beads_slung WHERE slung_to IS NOT NULL AND +status = 'open' AND (instr(slung_to, '/') > 0 OR rig_id IN (SELECT value FROM json_each(@rooms)))`];
  params.rooms = JSON.stringify(rooms.filter((r) => r.limit > 0).map((r) => r.rig));
  rooms.forEach((room, i) => {
    if (room.limit <= 0) return;
    params[`rig${i}`] = room.rig;
    params[`limit${i}`] = room.limit;
    streams.push(`SELECT id FROM (
      SELECT b.id FROM convoys c CROSS JOIN convoy_members m ON m.convoy_id = c.id CROSS JOIN beads b ON b.id = m.bead_id
      WHERE c.status = 'active' AND b.rig_id = @rig${i} AND (b.slung_to IS NULL OR instr(b.slung_to, '/') = 0) AND ${dispatchableSql('b')}
      GROUP BY b.id ORDER BY b.priority, min(m.position), b.created_at, b.id LIMIT @limit${i})`);
    if (room.autoDispatch) {
      streams.push(`SELECT id FROM (
        SELECT b.id FROM beads b INDEXED BY beads_dispatch_order
        WHERE b.rig_id = @rig${i} AND b.status = 'open' AND (b.slung_to IS NULL OR instr(b.slung_to, '/') = 0)
          AND NOT ${inActiveConvoy('b')} AND ${dispatchableSql('b')}
        ORDER BY b.priority, b.created_at, b.id LIMIT @limit${i})`);
    }
  });
  return {
    sql: `WITH candidates(id) AS (${streams.join('\n UNION ALL ')})
       SELECT b.*, (SELECT min(m.position) FROM convoy_members m JOIN convoys c ON c.id = m.convoy_id
                    WHERE m.bead_id = b.id AND c.status = 'active') AS convoy_pos
       FROM (SELECT DISTINCT id FROM candidates) AS candidates CROSS JOIN beads b ON b.id = candidates.id JOIN rigs r ON r.id = b.rig_id
       WHERE ${dispatchableSql('b')}
       ORDER BY b.priority, convoy_pos IS NULL, convoy_pos, b.created_at, b.id`,
    params,
  };
}
