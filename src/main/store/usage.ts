// Tokens and cost, one row per session, as the runtime reported them. A runtime reports
// running totals for its process, so a report never lowers a figure: a late or repeated
// report of an earlier turn changes nothing. A session whose reports never carried a cost
// (Codex reports tokens only) has an unknown cost, never $0: roll-ups sum what is priced and
// say how many tokens are not.
import type { UsageTotals } from '../../shared/domain';
import type { Store } from './store';

/** What a runtime reports: its tokens, and its cost when it knows one (null: it does not). */
export type ReportedTotals = Omit<UsageTotals, 'cost_usd' | 'cost_partial' | 'unpriced_tokens'> & { cost_usd: number | null };

export interface UsageReport {
  session: string;
  agent: string;
  bead: string | null;
  rig: string | null;
  runtime: string;
  model: string | null;
  totals: ReportedTotals;
}

export const NO_USAGE: UsageTotals = { input_tokens: 0, output_tokens: 0, cache_creation_tokens: 0, cache_read_tokens: 0, cost_usd: 0, cost_partial: false, unpriced_tokens: 0 };
const GROWING = ['input_tokens', 'output_tokens', 'cache_creation_tokens', 'cache_read_tokens', 'cost_usd', 'unpriced_tokens'] as const;

/** Records a session's running totals; true when a figure grew. */
export function recordUsage(store: Store, r: UsageReport): boolean {
  const before = sessionUsage(store, r.session);
  const t = r.totals;
  store.run(
    `INSERT INTO usage (session_id, agent_id, bead_id, rig_id, runtime, model, input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, cost_usd, cost_known, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(session_id) DO UPDATE SET
       model = coalesce(excluded.model, model),
       input_tokens = max(input_tokens, excluded.input_tokens),
       output_tokens = max(output_tokens, excluded.output_tokens),
       cache_creation_tokens = max(cache_creation_tokens, excluded.cache_creation_tokens),
       cache_read_tokens = max(cache_read_tokens, excluded.cache_read_tokens),
       cost_usd = max(cost_usd, excluded.cost_usd),
       -- A Claude turn's end reports tokens before its status line reports the cost.
       cost_known = max(cost_known, excluded.cost_known),
       updated_at = excluded.updated_at`,
    r.session, r.agent, r.bead, r.rig, r.runtime, r.model, t.input_tokens, t.output_tokens, t.cache_creation_tokens, t.cache_read_tokens, t.cost_usd ?? 0, t.cost_usd === null ? 0 : 1, store.now(),
  );
  const after = sessionUsage(store, r.session)!;
  const grew = !before || before.cost_usd === null !== (after.cost_usd === null) || GROWING.some((k) => (after[k] ?? 0) > (before[k] ?? 0));
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

const TOKENS = 'input_tokens + output_tokens + cache_creation_tokens + cache_read_tokens';
const SUMS = `coalesce(sum(input_tokens), 0) AS input_tokens, coalesce(sum(output_tokens), 0) AS output_tokens,
  coalesce(sum(cache_creation_tokens), 0) AS cache_creation_tokens, coalesce(sum(cache_read_tokens), 0) AS cache_read_tokens,
  coalesce(sum(CASE WHEN cost_known = 1 THEN cost_usd END), 0) AS cost_usd,
  count(CASE WHEN cost_known = 1 THEN 1 END) AS priced_sessions, count(CASE WHEN cost_known = 0 THEN 1 END) AS unpriced_sessions,
  coalesce(sum(CASE WHEN cost_known = 0 THEN ${TOKENS} END), 0) AS unpriced_tokens`;

type SumRow = Omit<UsageTotals, 'cost_partial' | 'cost_usd'> & { cost_usd: number; priced_sessions: number; unpriced_sessions: number };

/** Sums in the domain's words: a cost nothing priced is null (unknown), not $0. */
function totals<T extends SumRow>(row: T): Omit<T, 'priced_sessions' | 'unpriced_sessions' | 'cost_usd'> & UsageTotals {
  const { priced_sessions, unpriced_sessions, cost_usd, ...rest } = row;
  return { ...rest, cost_usd: unpriced_sessions > 0 && priced_sessions === 0 ? null : cost_usd, cost_partial: unpriced_sessions > 0 };
}

const sumWhere = (store: Store, where: string, ...params: unknown[]): UsageTotals => totals(store.get<SumRow>(`SELECT ${SUMS} FROM usage ${where}`, ...params)!);
const sumOrNull = (store: Store, where: string, ...params: unknown[]): UsageTotals | null => {
  const row = store.get<SumRow>(`SELECT ${SUMS} FROM usage ${where} HAVING count(*) > 0`, ...params);
  return row ? totals(row) : null;
};

export const sessionUsage = (store: Store, session: string): UsageTotals | undefined => sumOrNull(store, 'WHERE session_id = ?', session) ?? undefined;
export const agentUsage = (store: Store, agent: string): UsageTotals => sumWhere(store, 'WHERE agent_id = ?', agent);
export const beadUsage = (store: Store, bead: string): UsageTotals => sumWhere(store, 'WHERE bead_id = ?', bead);
/** A bead's spend over all its sessions; null while no runtime has reported any. */
export const beadUsageOrNull = (store: Store, bead: string): UsageTotals | null => sumOrNull(store, 'WHERE bead_id = ?', bead);
/** The model its runtime last reported, or null when none did. */
export const agentModel = (store: Store, agent: string): string | null =>
  store.get<{ model: string }>('SELECT model FROM usage WHERE agent_id = ? AND model IS NOT NULL ORDER BY updated_at DESC LIMIT 1', agent)?.model ?? null;
export const townUsage = (store: Store): UsageTotals => sumWhere(store, '');
export const rigUsage = (store: Store, rig: string): UsageTotals => sumWhere(store, 'WHERE rig_id = ?', rig);

/** Beads whose spend counts for a convoy: its members and their children (conflict resolutions). */
const CONVOY_BEADS = `SELECT m.convoy_id, m.bead_id FROM convoy_members m
  UNION SELECT m.convoy_id, b.id FROM convoy_members m JOIN beads b ON b.parent_id = m.bead_id`;

const CONVOY_WHERE = `WHERE bead_id IN (
  SELECT bead_id FROM convoy_members WHERE convoy_id = ?
  UNION SELECT b.id FROM convoy_members m JOIN beads b ON b.parent_id = m.bead_id WHERE m.convoy_id = ?)`;

export const convoyUsage = (store: Store, convoy: string): UsageTotals => sumWhere(store, CONVOY_WHERE, convoy, convoy);

/** The runtimes and rigs whose usage in a budget's scope has no price (for the overseer's warning). */
export function unpricedSources(store: Store, scope: 'town' | 'rig' | 'convoy', id: string): Array<{ runtime: string; rig_id: string | null }> {
  const where = scope === 'town' ? 'WHERE 1' : scope === 'rig' ? 'WHERE rig_id = ?' : CONVOY_WHERE;
  const params = scope === 'town' ? [] : scope === 'rig' ? [id] : [id, id];
  return store.all(`SELECT DISTINCT runtime, rig_id FROM usage ${where} AND cost_known = 0 ORDER BY runtime, rig_id`, ...params);
}

export type UsageGrouping = 'agent' | 'bead' | 'convoy' | 'rig';

/** Spend grouped one way, largest first. */
export function usageBy(store: Store, by: UsageGrouping): Array<{ key: string } & UsageTotals> {
  if (by === 'convoy') {
    return store
      .all<{ key: string } & SumRow>(`SELECT c.convoy_id AS key, ${SUMS} FROM usage u JOIN (${CONVOY_BEADS}) c ON c.bead_id = u.bead_id GROUP BY c.convoy_id ORDER BY cost_usd DESC, key`)
      .map(totals);
  }
  const column = { agent: 'agent_id', bead: 'bead_id', rig: 'rig_id' }[by];
  return store
    .all<{ key: string } & SumRow>(`SELECT ${column} AS key, ${SUMS} FROM usage WHERE ${column} IS NOT NULL GROUP BY ${column} ORDER BY cost_usd DESC, key`)
    .map(totals);
}
