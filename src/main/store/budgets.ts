// What the town remembers about its budgets: the level each one's spend was last announced
// at (budget_alerts). A budget at `reached` pauses dispatch of the beads it covers; that is
// read here, by the dispatcher and the convoy view, from this small table.
import type { BudgetLevel } from '../../shared/budget';
import type { Store } from './store';

export type BudgetScope = 'town' | 'rig' | 'convoy';

/** The town's own budget has no id; '' keeps the primary key simple. */
export const TOWN_BUDGET_ID = '';

export function announcedBudgetLevel(store: Store, scope: BudgetScope, id: string): BudgetLevel {
  return store.get<{ level: BudgetLevel }>('SELECT level FROM budget_alerts WHERE scope = ? AND id = ?', scope, id)?.level ?? 'ok';
}

export function setAnnouncedBudgetLevel(store: Store, scope: BudgetScope, id: string, level: BudgetLevel, spentUsd: number, budgetUsd: number | null) {
  if (level === 'ok') {
    store.run('DELETE FROM budget_alerts WHERE scope = ? AND id = ?', scope, id);
    return;
  }
  store.run(
    `INSERT INTO budget_alerts (scope, id, level, spent_usd, budget_usd, updated_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT(scope, id) DO UPDATE SET level = excluded.level, spent_usd = excluded.spent_usd,
       budget_usd = excluded.budget_usd, updated_at = excluded.updated_at`,
    scope, id, level, spentUsd, budgetUsd ?? 0, store.now(),
  );
}

/** Budgets whose spend reached them: what they cover does not dispatch. */
export interface ReachedBudgets {
  town: boolean;
  rigs: Set<string>;
  convoys: Set<string>;
}

export function reachedBudgets(store: Store): ReachedBudgets {
  const rows = store.all<{ scope: BudgetScope; id: string }>(`SELECT scope, id FROM budget_alerts WHERE level = 'reached'`);
  return {
    town: rows.some((r) => r.scope === 'town'),
    rigs: new Set(rows.filter((r) => r.scope === 'rig').map((r) => r.id)),
    convoys: new Set(rows.filter((r) => r.scope === 'convoy').map((r) => r.id)),
  };
}

/** Beads a convoy's budget covers: its members and their children (conflict resolutions), as usage counts them. */
export function beadsCoveredByConvoys(store: Store, convoys: Iterable<string>): Set<string> {
  const ids = [...convoys];
  if (ids.length === 0) return new Set();
  const marks = ids.map(() => '?').join(',');
  const rows = store.all<{ id: string }>(
    `SELECT bead_id AS id FROM convoy_members WHERE convoy_id IN (${marks})
     UNION SELECT b.id FROM convoy_members m JOIN beads b ON b.parent_id = m.bead_id WHERE m.convoy_id IN (${marks})`,
    ...ids, ...ids,
  );
  return new Set(rows.map((r) => r.id));
}

/** Convoys whose budget a bead's spend counts toward (as a member, or a member's child). */
export function convoysOfBead(store: Store, bead: string): string[] {
  return store
    .all<{ convoy_id: string }>(
      'SELECT DISTINCT convoy_id FROM convoy_members WHERE bead_id = ? OR bead_id = (SELECT parent_id FROM beads WHERE id = ?)',
      bead, bead,
    )
    .map((r) => r.convoy_id);
}

/** Why a convoy's beads do not dispatch for budget reasons, or null. */
export function convoyBudgetPause(store: Store, convoy: string, reached: ReachedBudgets = reachedBudgets(store)): string | null {
  if (reached.convoys.has(convoy)) return 'paused: budget reached';
  if (reached.town) return 'paused: town budget reached';
  if (reached.rigs.size === 0) return null;
  const rigs = store.all<{ rig_id: string }>(
    'SELECT DISTINCT b.rig_id FROM convoy_members m JOIN beads b ON b.id = m.bead_id WHERE m.convoy_id = ? AND b.rig_id IS NOT NULL',
    convoy,
  );
  const rig = rigs.find((r) => reached.rigs.has(r.rig_id));
  return rig ? `paused: rig ${rig.rig_id} budget reached` : null;
}

/** Why an open bead is not dispatched for budget reasons, or null (as dispatch decides: town, rig, then its convoys). */
export function beadBudgetPause(store: Store, bead: { id: string; rig_id: string | null; status: string }, reached: ReachedBudgets = reachedBudgets(store)): string | null {
  if (bead.status !== 'open') return null;
  if (reached.town) return 'paused: town budget reached';
  if (bead.rig_id && reached.rigs.has(bead.rig_id)) return `paused: rig ${bead.rig_id} budget reached`;
  if (reached.convoys.size === 0) return null;
  const convoy = convoysOfBead(store, bead.id).find((c) => reached.convoys.has(c));
  return convoy ? `paused: convoy ${convoy} budget reached` : null;
}
