// Tokens and cost, one row per session, as the runtime reported them. A runtime reports
// running totals for its process, so a report never lowers a figure: a late or repeated
// report of an earlier turn changes nothing.
import type { UsageTotals } from '../../shared/domain';
import type { Store } from './store';

export interface UsageReport {
  session: string;
  agent: string;
  bead: string | null;
  rig: string | null;
  runtime: string;
  model: string | null;
  totals: UsageTotals;
}

export const NO_USAGE: UsageTotals = { input_tokens: 0, output_tokens: 0, cache_creation_tokens: 0, cache_read_tokens: 0, cost_usd: 0 };

/** Records a session's running totals; true when a figure grew. */
export function recordUsage(store: Store, r: UsageReport): boolean {
  const before = sessionUsage(store, r.session);
  const t = r.totals;
  store.run(
    `INSERT INTO usage (session_id, agent_id, bead_id, rig_id, runtime, model, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, cost_usd, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(session_id) DO UPDATE SET
       model = coalesce(excluded.model, model),
       input_tokens = max(input_tokens, excluded.input_tokens),
       output_tokens = max(output_tokens, excluded.output_tokens),
       cache_creation_tokens = max(cache_creation_tokens, excluded.cache_creation_tokens),
       cache_read_tokens = max(cache_read_tokens, excluded.cache_read_tokens),
       cost_usd = max(cost_usd, excluded.cost_usd),
       updated_at = excluded.updated_at`,
    r.session, r.agent, r.bead, r.rig, r.runtime, r.model, t.input_tokens, t.output_tokens, t.cache_creation_tokens, t.cache_read_tokens, t.cost_usd, store.now(),
  );
  const after = sessionUsage(store, r.session)!;
  const grew = !before || (Object.keys(NO_USAGE) as (keyof UsageTotals)[]).some((k) => after[k] > before[k]);
  if (!grew) return false;
  store.event({
    type: 'usage.recorded',
    agent: r.agent,
    bead: r.bead,
    payload: { session: r.session, runtime: r.runtime, model: r.model, ...after },
    // The reconciler reviews the budgets this spend counts toward (reconciler/budgets.ts).
    pending: true,
  });
  store.touch('agent', r.agent);
  if (r.bead) {
    store.touch('bead', r.bead);
    const convoys = store.all<{ convoy_id: string }>(
      'SELECT convoy_id FROM convoy_members WHERE bead_id = ? OR bead_id = (SELECT parent_id FROM beads WHERE id = ?)',
      r.bead, r.bead,
    );
    for (const c of convoys) store.touch('convoy', c.convoy_id);
  }
  return true;
}

const SUMS = `coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens,
  coalesce(sum(cache_creation_tokens), 0) AS cache_creation_tokens, coalesce(sum(cache_read_tokens), 0) AS cache_read_tokens,
  coalesce(sum(cost_usd), 0) AS cost_usd`;

export function sessionUsage(store: Store, session: string): UsageTotals | undefined {
  return store.get<UsageTotals>(`SELECT ${SUMS} FROM usage WHERE session_id = ? HAVING count(*) > 0`, session);
}

export const agentUsage = (store: Store, agent: string): UsageTotals => store.get<UsageTotals>(`SELECT ${SUMS} FROM usage WHERE agent_id = ?`, agent)!;
export const beadUsage = (store: Store, bead: string): UsageTotals => store.get<UsageTotals>(`SELECT ${SUMS} FROM usage WHERE bead_id = ?`, bead)!;
/** A bead's spend over all its sessions; null while no runtime has reported any. */
export const beadUsageOrNull = (store: Store, bead: string): UsageTotals | null =>
  store.get<UsageTotals>(`SELECT ${SUMS} FROM usage WHERE bead_id = ? HAVING count(*) > 0`, bead) ?? null;
/** The model its runtime last reported, or null when none did. */
export const agentModel = (store: Store, agent: string): string | null =>
  store.get<{ model: string }>('SELECT model FROM usage WHERE agent_id = ? AND model IS NOT NULL ORDER BY updated_at DESC LIMIT 1', agent)?.model ?? null;
export const townUsage = (store: Store): UsageTotals => store.get<UsageTotals>(`SELECT ${SUMS} FROM usage`)!;
export const rigUsage = (store: Store, rig: string): UsageTotals => store.get<UsageTotals>(`SELECT ${SUMS} FROM usage WHERE rig_id = ?`, rig)!;

/** Beads whose spend counts for a convoy: its members and their children (conflict resolutions). */
const CONVOY_BEADS = `SELECT m.convoy_id, m.bead_id FROM convoy_members m
  UNION SELECT m.convoy_id, b.id FROM convoy_members m JOIN beads b ON b.parent_id = m.bead_id`;

export const convoyUsage = (store: Store, convoy: string): UsageTotals =>
  store.get<UsageTotals>(
    `SELECT ${SUMS} FROM usage WHERE bead_id IN (
       SELECT bead_id FROM convoy_members WHERE convoy_id = ?
       UNION SELECT b.id FROM convoy_members m JOIN beads b ON b.parent_id = m.bead_id WHERE m.convoy_id = ?)`,
    convoy, convoy,
  )!;

export type UsageGrouping = 'agent' | 'bead' | 'convoy' | 'rig';

/** Spend grouped one way, largest first. */
export function usageBy(store: Store, by: UsageGrouping): Array<{ key: string } & UsageTotals> {
  if (by === 'convoy') {
    return store.all<{ key: string } & UsageTotals>(
      `SELECT c.convoy_id AS key, ${SUMS} FROM usage u JOIN (${CONVOY_BEADS}) c ON c.bead_id = u.bead_id GROUP BY c.convoy_id ORDER BY cost_usd DESC, key`,
    );
  }
  const column = { agent: 'agent_id', bead: 'bead_id', rig: 'rig_id' }[by];
  return store.all<{ key: string } & UsageTotals>(
    `SELECT ${column} AS key, ${SUMS} FROM usage WHERE ${column} IS NOT NULL GROUP BY ${column} ORDER BY cost_usd DESC, key`,
  );
}
