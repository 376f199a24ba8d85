// `town costs`: tokens and spend as the runtimes reported them, grouped one way, with the
// budgets they count against (a convoy's, a rig's, the town's).
import type { CostReport } from '../../shared/domain';
import { readConfig } from '../reconciler/config';
import { townUsage, usageBy } from '../store/usage';
import type { Handlers } from './context';

export const costHandlers: Handlers<'costs.report'> = {
  'costs.report': (ctx, _c, input) => {
    const { store } = ctx;
    const townBudget = readConfig(store)['costs.town_budget'];
    const label = (key: string): { label: string; budget_usd: number | null } => {
      switch (input.by) {
        case 'convoy': {
          const c = store.get<{ title: string; budget_usd: number | null }>('SELECT b.title, c.budget_usd FROM convoys c JOIN beads b ON b.id = c.id WHERE c.id = ?', key);
          return { label: c?.title ?? key, budget_usd: c?.budget_usd ?? null };
        }
        case 'rig': {
          const r = store.get<{ budget_usd: number | null }>('SELECT budget_usd FROM rigs WHERE id = ?', key);
          return { label: key, budget_usd: r?.budget_usd ?? null };
        }
        case 'bead':
          return { label: store.get<{ title: string }>('SELECT title FROM beads WHERE id = ?', key)?.title ?? key, budget_usd: null };
        case 'agent':
          return { label: store.get<{ name: string }>('SELECT name FROM agents WHERE id = ?', key)?.name ?? key, budget_usd: null };
      }
    };
    const report: CostReport = {
      by: input.by,
      town: { ...townUsage(store), budget_usd: townBudget > 0 ? townBudget : null },
      rows: usageBy(store, input.by).map((row) => ({ ...row, ...label(row.key) })),
    };
    return report;
  },
};
