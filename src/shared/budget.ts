// Budgets: what a spend means against a budget, and when it is announced. Pure and shared:
// the engine (store/budgets.ts) applies it to what it records, the UI colours the same levels.

export type BudgetLevel = 'ok' | 'warning' | 'reached';

/** At this share of its budget, the overseer is warned. */
export const BUDGET_WARNING_SHARE = 0.8;

const RANK: Record<BudgetLevel, number> = { ok: 0, warning: 1, reached: 2 };

/** Where a spend stands against a budget (none: always ok). */
export function budgetLevel(spentUsd: number, budgetUsd: number | null): BudgetLevel {
  if (budgetUsd === null || budgetUsd <= 0) return 'ok';
  // Cents: float sums of many small costs must not miss the line by 1e-12.
  const spent = Math.round(spentUsd * 100);
  const budget = Math.round(budgetUsd * 100);
  if (spent >= budget) return 'reached';
  return spent >= Math.round(budget * BUDGET_WARNING_SHARE) ? 'warning' : 'ok';
}

export interface BudgetStep {
  /** The level to remember as announced. */
  level: BudgetLevel;
  /** What to announce now: a crossing upward, once; nothing when it stays or falls. */
  announce: 'warning' | 'reached' | null;
}

/**
 * A crossing upward is announced once (a straight jump past 100 % announces only `reached`);
 * a fall (a raised or removed budget) re-arms silently, so the next crossing is announced again.
 */
export function budgetStep(announced: BudgetLevel, spentUsd: number, budgetUsd: number | null): BudgetStep {
  const now = budgetLevel(spentUsd, budgetUsd);
  if (RANK[now] > RANK[announced]) return { level: now, announce: now === 'ok' ? null : now };
  return { level: now, announce: null };
}
