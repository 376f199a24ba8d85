// Bead writes. Each runs inside the caller's transaction and appends its event. The
// status column changes only here, through BEAD_TRANSITIONS; leaving a terminal status
// takes the explicit reopenBead (invariant 5).
import type { BeadStatus, BeadType, DependencyType, OriginKind } from '../../shared/domain';
import { ApiError, conflict, invalid, notFound } from '../../shared/errors';
import { assertTransition, type TransitionTable } from './status-machine';
import type { Store } from './store';
import { beadMetadata, getBead, getRig, type BeadRow } from './views';

export interface NewBead {
  rig: string | null;
  type: BeadType;
  title: string;
  body: string;
  priority: number;
  labels: string[];
  metadata: Record<string, unknown>;
  origin: { kind: OriginKind; id: string };
  parent?: string;
}

/** Marks a bead changed, and what shows it: convoys it belongs to, beads whose readiness follows it. */
export function touchBead(store: Store, id: string) {
  store.touch('bead', id);
  for (const m of store.all<{ convoy_id: string }>('SELECT convoy_id FROM convoy_members WHERE bead_id = ?', id)) {
    store.touch('convoy', m.convoy_id);
  }
  // Whether a bead is ready depends on its blockers and its ancestors' blockers: what waits on
  // this bead changes, and so do their parent-child descendants and this bead's own.
  const affected = store.all<{ id: string }>(
    `WITH RECURSIVE affected(id) AS (
       SELECT bead_id FROM dependencies WHERE depends_on_id = ? AND type = 'blocks'
       UNION SELECT ?
       UNION SELECT d.bead_id FROM affected a CROSS JOIN dependencies d ON d.depends_on_id = a.id WHERE d.type = 'parent-child'
     ) SELECT id FROM affected WHERE id <> ?`,
    id, id, id,
  );
  for (const d of affected) store.touch('bead', d.id);
}

export function requireBead(store: Store, id: string, field = 'id'): BeadRow {
  const b = getBead(store, id);
  if (!b) throw notFound('bead', id, field);
  return b;
}

export function townPrefix(store: Store): string {
  return store.setting('town_prefix', 'hq');
}

export function createBead(store: Store, nb: NewBead): BeadRow {
  if (!nb.origin.kind || !nb.origin.id) throw invalid('every bead needs an origin', 'origin');
  let prefix = townPrefix(store);
  if (nb.rig) {
    const rig = getRig(store, nb.rig);
    if (!rig) throw notFound('rig', nb.rig, 'rig');
    prefix = rig.prefix;
  }
  if (nb.parent) requireBead(store, nb.parent, 'parent');
  const id = store.newBeadId(prefix);
  const now = store.now();
  store.run(
    `INSERT INTO beads (id, rig_id, type, title, body, priority, labels, parent_id, origin_kind, origin_id, created_at, updated_at, metadata)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    id,
    nb.rig,
    nb.type,
    nb.title,
    nb.body,
    nb.priority,
    JSON.stringify([...new Set(nb.labels)]),
    nb.parent ?? null,
    nb.origin.kind,
    nb.origin.id,
    now,
    now,
    JSON.stringify(nb.metadata),
  );
  if (nb.parent) addDependency(store, id, nb.parent, 'parent-child');
  store.event({ type: 'bead.created', bead: id, payload: { title: nb.title, rig: nb.rig, origin: nb.origin } });
  touchBead(store, id);
  return getBead(store, id)!;
}

export const BEAD_TRANSITIONS: TransitionTable<BeadStatus> = {
  open: ['in_progress', 'closed', 'failed'],
  in_progress: ['open', 'in_review', 'closed', 'failed'],
  in_review: ['closed', 'open', 'in_progress', 'failed'],
  closed: [],
  failed: [],
};

export interface StatusChange {
  status: BeadStatus;
  reason?: string | null;
  assignee?: string | null;
  /** Why, for the event log. */
  cause: string;
}

export function setBeadStatus(store: Store, id: string, change: StatusChange) {
  const bead = requireBead(store, id);
  assertTransition('bead', id, BEAD_TRANSITIONS, bead.status, change.status);
  writeStatus(store, bead, change);
}

/** The only way out of closed or failed: the overseer's explicit reopen. Attempts start over. */
export function reopenBead(store: Store, id: string, cause: string) {
  const bead = requireBead(store, id);
  if (bead.status !== 'closed' && bead.status !== 'failed') throw conflict(`${bead.id} is ${bead.status}, not closed or failed`, 'id');
  const labels = (JSON.parse(bead.labels) as string[]).filter((l) => l !== 'escalated');
  store.run('UPDATE beads SET dispatch_attempts = 0, last_dispatch_at = NULL, labels = ? WHERE id = ?', JSON.stringify(labels), bead.id);
  writeStatus(store, bead, { status: 'open', assignee: null, cause });
}

/**
 * The overseer retries a failed merge of this bead's work: the work is on its branch, so the
 * bead is in review again. Like reopen, an explicit overseer act may leave `failed`.
 */
export function returnToReview(store: Store, id: string, cause: string) {
  const bead = requireBead(store, id);
  if (bead.status === 'in_review') return;
  if (bead.status !== 'failed' && bead.status !== 'open') throw conflict(`${bead.id} is ${bead.status}; only a failed or open bead goes back to review`, 'mr');
  writeStatus(store, bead, { status: 'in_review', cause });
}

function writeStatus(store: Store, bead: BeadRow, change: StatusChange) {
  const id = bead.id;
  const now = store.now();
  const assignee = change.assignee === undefined ? bead.assignee : change.assignee;
  const startedAt = change.status === 'in_progress' ? bead.started_at ?? now : bead.started_at;
  const terminal = change.status === 'closed' || change.status === 'failed';
  store.run(
    `UPDATE beads SET status = ?, assignee = ?, started_at = ?, closed_at = ?, close_reason = ?, updated_at = ? WHERE id = ?`,
    change.status,
    assignee,
    startedAt,
    terminal ? now : null,
    terminal ? change.reason ?? null : null,
    now,
    id,
  );
  store.event({
    type: `bead.${change.status}`,
    bead: id,
    agent: assignee,
    payload: { from: bead.status, cause: change.cause, ...(change.reason ? { reason: change.reason } : {}) },
    // A resolution bead that ends while its MR still waits on it ended unresolved: the
    // reconciler handles this event once (rework.ts), so the MR never stays blocked on it.
    pending: terminal && endsAwaitedResolution(store, id),
  });
  touchBead(store, id);
}

/** An MR is blocked on this bead (an index lookup: cheap on every terminal change). */
const endsAwaitedResolution = (store: Store, id: string) =>
  store.get(`SELECT 1 FROM merge_requests WHERE resolution_bead = ? AND state = 'blocked'`, id) !== undefined;

/** A dispatch counts against the bead (never the agent): attempts and backoff live here. */
export function recordDispatch(store: Store, id: string) {
  store.run('UPDATE beads SET dispatch_attempts = dispatch_attempts + 1, last_dispatch_at = ? WHERE id = ?', store.now(), id);
}

/** Assigns an open bead to a rig or a named polecat (the reconciler dispatches it). */
export function slingBead(store: Store, id: string, target: string, rig: string | null, o: { clearBackoff?: boolean } = {}) {
  store.run(
    `UPDATE beads SET slung_to = ?, rig_id = coalesce(rig_id, ?)${o.clearBackoff ? ', last_dispatch_at = NULL' : ''}, updated_at = ? WHERE id = ?`,
    target, rig, store.now(), id,
  );
  store.event({ type: 'bead.slung', bead: id, payload: { target }, pending: true });
  touchBead(store, id);
}

/**
 * Holds a bead out of dispatch until the overseer releases it ("stop means stop"). A hold on
 * an in_progress bead outlives its run: the bead goes back to open still held.
 */
export function holdBead(store: Store, id: string, reason: string) {
  const bead = requireBead(store, id);
  assertNotTerminal(bead, 'hold it');
  if (bead.held_at !== null) return;
  store.run('UPDATE beads SET held_at = ?, held_reason = ?, updated_at = ? WHERE id = ?', store.now(), reason, store.now(), id);
  store.event({ type: 'bead.held', bead: id, payload: { reason } });
  touchBead(store, id);
}

/** Lets a held bead be dispatched again; its backoff starts over (the overseer asked for it). */
export function releaseBead(store: Store, id: string, cause: string) {
  const bead = requireBead(store, id);
  if (bead.held_at === null) throw conflict(`${bead.id} is not held`, 'id');
  store.run('UPDATE beads SET held_at = NULL, held_reason = NULL, last_dispatch_at = NULL, updated_at = ? WHERE id = ?', store.now(), id);
  store.event({ type: 'bead.released', bead: id, payload: { cause }, pending: true });
  touchBead(store, id);
}

export function addBeadLabel(store: Store, id: string, label: string) {
  const bead = requireBead(store, id);
  const labels = [...new Set([...(JSON.parse(bead.labels) as string[]), label])];
  store.run('UPDATE beads SET labels = ?, updated_at = ? WHERE id = ?', JSON.stringify(labels), store.now(), id);
  touchBead(store, id);
}

/** A run that never really ran (interrupted, recovered, cut off before it started) gives its attempt back. */
export function refundDispatchAttempt(store: Store, id: string, o: { clearBackoff?: boolean } = {}) {
  store.run(
    `UPDATE beads SET dispatch_attempts = max(dispatch_attempts - 1, 0)${o.clearBackoff ? ', last_dispatch_at = NULL' : ''} WHERE id = ?`,
    id,
  );
}

export function updateBeadFields(store: Store, id: string, fields: { title?: string; body?: string; priority?: number; labels?: string[]; metadata?: Record<string, unknown> }) {
  const bead = requireBead(store, id);
  store.run(
    `UPDATE beads SET title = ?, body = ?, priority = ?, labels = ?, metadata = ?, updated_at = ? WHERE id = ?`,
    fields.title ?? bead.title,
    fields.body ?? bead.body,
    fields.priority ?? bead.priority,
    fields.labels ? JSON.stringify([...new Set(fields.labels)]) : bead.labels,
    fields.metadata ? JSON.stringify({ ...beadMetadata(bead), ...fields.metadata }) : bead.metadata,
    store.now(),
    id,
  );
  store.event({ type: 'bead.updated', bead: id, payload: { fields: Object.keys(fields) } });
  touchBead(store, id);
}

/**
 * The kinds a bead waits along (store/ready.ts): what it `blocks` on, and its parent, since a
 * bead under a blocked parent is blocked too. A cycle of them with a `blocks` link in it is work
 * that can never be ready; one of parents alone is a bead that is its own ancestor. Both are refused.
 */
export const WAITING_TYPES: readonly DependencyType[] = ['blocks', 'parent-child'];
/** WAITING_TYPES as an SQL list, for `type IN …`. */
export const WAITING_TYPES_SQL = `(${WAITING_TYPES.map((t) => `'${t}'`).join(', ')})`;

/**
 * The beads from `from` to `to` (both included) along waiting dependencies, or null when `to`
 * is out of reach: adding `to` → `from` would then close the cycle `to → from → … → to`.
 * Breadth first, one indexed look-up per bead reached, so the path found is a shortest one.
 */
export function waitingPath(store: Store, from: string, to: string): string[] | null {
  const next = store.sql(`SELECT depends_on_id AS id FROM dependencies WHERE bead_id = ? AND type IN ${WAITING_TYPES_SQL}`);
  const cameFrom = new Map<string, string | null>([[from, null]]);
  const queue = [from];
  for (let i = 0; i < queue.length; i++) {
    const at = queue[i]!;
    if (at === to) {
      const path: string[] = [];
      for (let p: string | null = at; p !== null; p = cameFrom.get(p)!) path.unshift(p);
      return path;
    }
    for (const { id } of next.all(at) as { id: string }[]) {
      if (!cameFrom.has(id)) (cameFrom.set(id, at), queue.push(id));
    }
  }
  return null;
}

/** The cycle `beadId → dependsOn` would close, written as a reader follows it, or null. */
export function cycleClosedBy(store: Store, beadId: string, dependsOn: string, type: DependencyType): string | null {
  if (!WAITING_TYPES.includes(type)) return null;
  const path = waitingPath(store, dependsOn, beadId);
  return path ? [beadId, ...path].join(' → ') : null;
}

export function addDependency(store: Store, beadId: string, dependsOn: string, type: DependencyType) {
  requireBead(store, beadId, 'bead');
  requireBead(store, dependsOn, 'depends_on');
  if (beadId === dependsOn) throw invalid('a bead cannot depend on itself', 'depends_on');
  const cycle = cycleClosedBy(store, beadId, dependsOn, type);
  if (cycle) throw new ApiError('conflict', `${beadId} → ${dependsOn} would close a cycle: ${cycle} (${dependsOn} already waits on ${beadId})`, 'depends_on');
  const exists = store.get('SELECT 1 FROM dependencies WHERE bead_id = ? AND depends_on_id = ? AND type = ?', beadId, dependsOn, type);
  if (exists) return;
  store.run('INSERT INTO dependencies (bead_id, depends_on_id, type, created_at) VALUES (?, ?, ?, ?)', beadId, dependsOn, type, store.now());
  store.event({ type: 'dependency.added', bead: beadId, payload: { depends_on: dependsOn, type } });
  touchBead(store, beadId);
}

export function removeDependency(store: Store, beadId: string, dependsOn: string, type: DependencyType) {
  requireBead(store, beadId, 'bead');
  requireBead(store, dependsOn, 'depends_on');
  const r = store.run('DELETE FROM dependencies WHERE bead_id = ? AND depends_on_id = ? AND type = ?', beadId, dependsOn, type);
  if (r.changes === 0) throw notFound('dependency', `${beadId} → ${dependsOn}`, 'depends_on');
  store.event({ type: 'dependency.removed', bead: beadId, payload: { depends_on: dependsOn, type }, pending: true });
  touchBead(store, beadId);
  touchBead(store, dependsOn);
}

export function assertNotTerminal(bead: BeadRow, action: string) {
  if (bead.status === 'closed' || bead.status === 'failed') {
    throw conflict(`${bead.id} is ${bead.status}; reopen it before you ${action}`, 'id');
  }
}
