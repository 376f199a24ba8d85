// Convoy writes: a convoy is a bead of type convoy plus its row and ordered members.
// Its status moves staged → active → landed, and only here.
import { OVERSEER, type ConvoyStatus } from '../../shared/domain';
import { conflict, invalid, notFound } from '../../shared/errors';
import { addDependency, createBead, requireBead, setBeadStatus } from './beads';
import { assertTransition, type TransitionTable } from './status-machine';
import type { Store } from './store';
import { convoyView } from './views';

export const CONVOY_TRANSITIONS: TransitionTable<ConvoyStatus> = {
  staged: ['active'],
  active: ['landed'],
  landed: [],
};

interface ConvoyRow {
  id: string;
  status: ConvoyStatus;
}

export function requireConvoy(store: Store, id: string, field: string): ConvoyRow {
  const c = store.get<ConvoyRow>('SELECT id, status FROM convoys WHERE id = ?', id);
  if (!c) throw notFound('convoy', id, field);
  return c;
}

export function requireConvoyMember(store: Store, id: string, field: string) {
  const b = requireBead(store, id, field);
  if (b.type === 'convoy' || b.type === 'merge_request') throw invalid(`${id} is a ${b.type} and cannot be a convoy member`, field);
  return b;
}

function setConvoyStatus(store: Store, id: string, to: ConvoyStatus, cause: string) {
  const c = requireConvoy(store, id, 'convoy');
  assertTransition('convoy', id, CONVOY_TRANSITIONS, c.status, to);
  const now = store.now();
  store.run(
    `UPDATE convoys SET status = ?, started_at = CASE WHEN ? = 'active' THEN ? ELSE started_at END,
       landed_at = CASE WHEN ? = 'landed' THEN ? ELSE landed_at END WHERE id = ?`,
    to, to, now, to, now, id,
  );
  store.event({ type: to === 'active' ? 'convoy.started' : 'convoy.landed', bead: id, payload: { from: c.status, cause }, pending: to === 'active' });
  store.touch('convoy', id);
}

export type ConvoyMode = 'direct' | 'integration';

export function createConvoy(store: Store, title: string, beads: string[], mode: ConvoyMode = 'direct', budgetUsd: number | null = null) {
  const bead = createBead(store, {
    rig: null, type: 'convoy', title, body: '', priority: 2, labels: [], metadata: {},
    origin: { kind: 'user', id: OVERSEER },
  });
  store.run(`INSERT INTO convoys (id, status, merge_mode, budget_usd) VALUES (?, 'staged', ?, ?)`, bead.id, mode, budgetUsd);
  addConvoyMembers(store, bead.id, beads);
  store.event({ type: 'convoy.created', bead: bead.id, payload: { beads, ...(mode === 'integration' ? { mode } : {}) } });
  store.touch('convoy', bead.id);
  return bead.id;
}

/** The budget is the convoy's; what it means for dispatch is reviewed by the caller (reconciler/budgets.ts). */
export function setConvoyBudget(store: Store, id: string, budgetUsd: number | null) {
  const c = requireConvoy(store, id, 'convoy');
  store.run('UPDATE convoys SET budget_usd = ? WHERE id = ?', budgetUsd, c.id);
  store.event({ type: 'convoy.budget_set', bead: c.id, payload: { budget_usd: budgetUsd } });
  store.touch('convoy', c.id);
}

export function addConvoyMembers(store: Store, convoyId: string, beads: string[]) {
  let pos = store.get<{ p: number | null }>('SELECT max(position) AS p FROM convoy_members WHERE convoy_id = ?', convoyId)!.p ?? -1;
  for (const id of beads) {
    const r = store.run('INSERT OR IGNORE INTO convoy_members (convoy_id, bead_id, position) VALUES (?, ?, ?)', convoyId, id, pos + 1);
    if (r.changes > 0) {
      pos++;
      addDependency(store, convoyId, id, 'tracks');
      store.touch('bead', id);
    }
  }
  store.touch('convoy', convoyId);
}

export function removeConvoyMembers(store: Store, convoyId: string, beads: string[]) {
  for (const id of beads) {
    store.run('DELETE FROM convoy_members WHERE convoy_id = ? AND bead_id = ?', convoyId, id);
    store.run(`DELETE FROM dependencies WHERE bead_id = ? AND depends_on_id = ? AND type = 'tracks'`, convoyId, id);
    store.touch('bead', id);
  }
  renumberMembers(store, convoyId);
  store.event({ type: 'convoy.members_removed', bead: convoyId, payload: { beads }, pending: true });
  store.touch('convoy', convoyId);
}

export function moveConvoyMember(store: Store, convoyId: string, bead: string, position: number) {
  const order = store.all<{ bead_id: string }>('SELECT bead_id FROM convoy_members WHERE convoy_id = ? ORDER BY position', convoyId).map((m) => m.bead_id);
  const from = order.indexOf(bead);
  if (from < 0) throw notFound('member', `${bead} in ${convoyId}`, 'bead');
  order.splice(from, 1);
  order.splice(Math.min(position, order.length), 0, bead);
  order.forEach((id, i) => store.run('UPDATE convoy_members SET position = ? WHERE convoy_id = ? AND bead_id = ?', i, convoyId, id));
  store.event({ type: 'convoy.reordered', bead: convoyId, payload: { bead, position } });
  store.touch('convoy', convoyId);
}

/** Staged → active: its members become dispatchable. */
export function startConvoy(store: Store, convoyId: string) {
  const convoy = requireConvoy(store, convoyId, 'convoy');
  if (convoy.status !== 'staged') throw conflict(`${convoy.id} is ${convoy.status}, not staged`, 'convoy');
  if (convoyView(store, convoyId)!.total === 0) throw conflict(`${convoy.id} has no beads; add some first`, 'convoy');
  const rigless = store.get<{ bead_id: string }>(
    `SELECT m.bead_id FROM convoy_members m JOIN beads b ON b.id = m.bead_id WHERE m.convoy_id = ? AND b.rig_id IS NULL`,
    convoyId,
  );
  if (rigless) throw conflict(`${rigless.bead_id} has no rig; nothing could work it`, 'convoy');
  setConvoyStatus(store, convoyId, 'active', 'started by overseer');
}

/** Active → landed once every member is closed; its bead closes with it. */
export function landConvoy(store: Store, convoyId: string) {
  setConvoyStatus(store, convoyId, 'landed', 'every member closed');
  setBeadStatus(store, convoyId, { status: 'closed', reason: 'landed', cause: 'convoy landed' });
}

function renumberMembers(store: Store, convoyId: string) {
  const ids = store.all<{ bead_id: string }>('SELECT bead_id FROM convoy_members WHERE convoy_id = ? ORDER BY position', convoyId);
  ids.forEach((m, i) => store.run('UPDATE convoy_members SET position = ? WHERE convoy_id = ? AND bead_id = ?', i, convoyId, m.bead_id));
}
