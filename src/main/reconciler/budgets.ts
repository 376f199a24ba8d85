// Budgets per convoy, rig and town. Recorded usage (and a changed budget) is reviewed against
// each budget it counts toward: the first crossing of 80 % warns, of 100 % pauses dispatch of
// what the budget covers, each announced once (the level is remembered in the same transaction
// as the event that moved it, so a replay announces nothing). Running agents are left alone.
// Usage without a price (Codex reports tokens only) cannot count: a budgeted scope that has
// some is said once, as a low escalation, rather than silently never tripping.
import { budgetStep } from '../../shared/budget';
import type { UsageTotals } from '../../shared/domain';
import type { EventPayload } from '../../shared/events';
import { announcedBudgetLevel, beadsCoveredByConvoys, convoysOfBead, setAnnouncedBudgetLevel, TOWN_BUDGET_ID, type BudgetScope } from '../store/budgets';
import { ackEscalation, latestEscalation, raiseEscalation } from '../store/escalations';
import type { Store } from '../store/store';
import { convoyUsage, rigUsage, townUsage, unpricedSources } from '../store/usage';
import type { EventRow } from '../store/views';
import { readConfig, type TownConfig } from './config';
import type { HandlerContext } from './event-handlers';
import type { Effect } from './effects';

interface Budget {
  label: string;
  budgetUsd: number | null;
  spentUsd: number;
  /** Tokens in its scope without a price. */
  unpricedTokens: number;
  /** The command that changes it, for the escalation. */
  change: string;
}

function budgetOf(store: Store, config: TownConfig, scope: BudgetScope, id: string): Budget | null {
  switch (scope) {
    case 'town': {
      const budget = config['costs.town_budget'];
      return { label: 'the town', budgetUsd: budget > 0 ? budget : null, ...spent(townUsage(store)), change: 'town config set costs.town_budget DOLLARS (0: none)' };
    }
    case 'rig': {
      const rig = store.get<{ budget_usd: number | null }>('SELECT budget_usd FROM rigs WHERE id = ?', id);
      if (!rig) return null;
      return { label: `rig ${id}`, budgetUsd: rig.budget_usd, ...spent(rigUsage(store, id)), change: `town rig update ${id} --budget DOLLARS|none` };
    }
    case 'convoy': {
      const c = store.get<{ title: string; budget_usd: number | null }>('SELECT b.title, c.budget_usd FROM convoys c JOIN beads b ON b.id = c.id WHERE c.id = ?', id);
      if (!c) return null;
      return { label: `convoy ${id} "${c.title}"`, budgetUsd: c.budget_usd, ...spent(convoyUsage(store, id)), change: `town convoy update ${id} --budget DOLLARS|none` };
    }
  }
}

const spent = (u: UsageTotals) => ({ spentUsd: u.cost_usd ?? 0, unpricedTokens: u.unpriced_tokens });

const dollars = (n: number) => `$${n.toFixed(2)}`;
const reasonOf = (label: string, level: 'warning' | 'reached') => (level === 'reached' ? `${label}: budget reached` : `${label}: budget at 80 %`);

/**
 * Brings one budget's announced level up to date with its spend: announces an upward crossing
 * (event + escalation), or re-arms after a raise (its open budget escalations are acked: the
 * overseer's raise answered them).
 */
export function reviewBudget(store: Store, config: TownConfig, scope: BudgetScope, id: string) {
  const b = budgetOf(store, config, scope, id);
  if (!b) return;
  warnUnpriced(store, scope, id, b);
  const was = announcedBudgetLevel(store, scope, id);
  const step = budgetStep(was, b.spentUsd, b.budgetUsd);
  if (step.level === was && !step.announce) return;
  setAnnouncedBudgetLevel(store, scope, id, step.level, b.spentUsd, b.budgetUsd);
  const bead = scope === 'convoy' ? id : null;
  touchCovered(store, scope, id);
  if (!step.announce) {
    for (const level of ['warning', 'reached'] as const) {
      const open = latestEscalation(store, null, bead, reasonOf(b.label, level));
      if (open && open.acked_at === null) ackEscalation(store, open.id, 'town');
    }
    return;
  }
  const payload = { scope, id: scope === 'town' ? null : id, spent_usd: b.spentUsd, budget_usd: b.budgetUsd! };
  store.event({ type: step.announce === 'reached' ? 'budget.reached' : 'budget.warning', bead, payload });
  const what = `${b.label} has spent ${dollars(b.spentUsd)} of its ${dollars(b.budgetUsd!)} budget`;
  const body =
    step.announce === 'reached'
      ? `${what}.\nDispatch of the beads it covers is paused. Agents already running are not stopped and may spend more.\n` +
        `To go on, raise the budget or remove it: ${b.change}`
      : `${what} (80 %).\nAt 100 % dispatch of the beads it covers pauses. To raise it: ${b.change}`;
  raiseEscalation(
    store,
    {
      severity: step.announce === 'reached' ? 'high' : 'medium', source: 'town', agent: null, bead,
      reason: reasonOf(b.label, step.announce), body, evidence: { summary: what, source: 'budget' },
    },
    // Exactly once per crossing is the level's job; a crossing after a re-arm is news again.
    0,
  );
}

const unpricedReason = (label: string) => `${label}: budget cannot see all spend`;

/**
 * A budget whose scope has usage without a price counts only what is priced, so it may never
 * trip. Said once per budgeted scope (an escalation of that reason, acked or not, is the
 * memory); dispatch goes on: pausing all Codex work for a figure nobody has would surprise more.
 */
function warnUnpriced(store: Store, scope: BudgetScope, id: string, b: Budget) {
  if (b.budgetUsd === null || b.unpricedTokens === 0) return;
  const bead = scope === 'convoy' ? id : null;
  const reason = unpricedReason(b.label);
  if (latestEscalation(store, null, bead, reason)) return;
  const where = unpricedSources(store, scope, id).map((s) => `${s.runtime}${s.rig_id ? ` on rig ${s.rig_id}` : ''}`);
  const what = `${b.label}'s budget cannot see ${[...new Set(where)].join(', ')} spend`;
  const body =
    `${what}: ${b.unpricedTokens.toLocaleString('en-US')} tokens have no price (Codex reports tokens, not cost, and Overseer has no price table).\n` +
    `The budget counts only the ${dollars(b.spentUsd)} it can see, so it may never warn or pause for that work. ` +
    `Watch \`town costs\` for those tokens, or run that work on a runtime that reports cost.`;
  raiseEscalation(store, { severity: 'low', source: 'town', agent: null, bead, reason, body, evidence: { summary: what, source: 'budget' } }, 0);
}

const MAX_TOUCHED_BEADS = 500;

/**
 * A budget's level shows on convoys (its own, or every open one for a rig's or the town's) and
 * on the open beads it pauses (their panels say why they wait).
 */
function touchCovered(store: Store, scope: BudgetScope, id: string) {
  const openBeads =
    scope === 'convoy'
      ? [...beadsCoveredByConvoys(store, [id])].filter((b) => store.get<{ status: string }>('SELECT status FROM beads WHERE id = ?', b)?.status === 'open')
      : store.all<{ id: string }>(`SELECT id FROM beads WHERE status = 'open'${scope === 'rig' ? ' AND rig_id = ?' : ''}`, ...(scope === 'rig' ? [id] : [])).map((b) => b.id);
  // A rig's or the town's budget can cover a whole imported backlog: past a few hundred beads
  // the windows fetch one snapshot instead of a patch per bead.
  if (openBeads.length > MAX_TOUCHED_BEADS) return store.skipRevision();
  for (const b of openBeads) store.touch('bead', b);
  if (scope === 'convoy') return store.touch('convoy', id);
  const convoys = store.all<{ id: string }>(`SELECT id FROM convoys WHERE status <> 'landed'`);
  for (const c of convoys) store.touch('convoy', c.id);
}

/** Every budget one bead's spend counts toward: its convoys', its rig's, the town's. */
export function reviewBudgetsOfBead(store: Store, config: TownConfig, bead: string | null, rig: string | null) {
  if (bead) for (const convoy of convoysOfBead(store, bead)) reviewBudget(store, config, 'convoy', convoy);
  if (rig) reviewBudget(store, config, 'rig', rig);
  reviewBudget(store, config, 'town', TOWN_BUDGET_ID);
}

/** A budget was set or changed outside a tick (an API call): reviewed in the caller's transaction. */
export function reviewChangedBudget(store: Store, scope: BudgetScope, id: string) {
  reviewBudget(store, readConfig(store), scope, id);
}

export function usageRecorded({ store, config }: HandlerContext, e: EventRow, p: EventPayload<'usage.recorded'>): Effect[] {
  const row = store.get<{ rig_id: string | null }>('SELECT rig_id FROM usage WHERE session_id = ?', p.session);
  reviewBudgetsOfBead(store, config, e.bead_id, row?.rig_id ?? null);
  return [];
}
