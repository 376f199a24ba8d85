// A cost in words, for the CLI and the UI alike: the priced part in dollars, and said plainly
// when some or all usage has no price (Codex reports tokens, never cost, and Overseer keeps no
// price table: unknown is not $0).
import type { UsageTotals } from './domain';

export const UNPRICED_WHY = 'Codex reports tokens, not cost, and Overseer has no price table: that usage has no price';

type Priced = Pick<UsageTotals, 'cost_usd' | 'cost_partial' | 'unpriced_tokens'>;

/**
 * "$1.20", "$1.20 + 30k tokens without a price" ("+ 30k unpriced" where room is short),
 * or "—" when nothing is priced; `money` and `count` format as the caller's surface does.
 */
export function costWords(u: Priced, money: (usd: number) => string, count: (n: number) => string, short = false): string {
  if (u.cost_usd === null) return '—';
  if (!u.cost_partial) return money(u.cost_usd);
  return `${money(u.cost_usd)} + ${count(u.unpriced_tokens)} ${short ? 'unpriced' : 'tokens without a price'}`;
}

/** The tooltip's sentence for a cost that is unknown in whole or in part, or null. */
export function unpricedWhy(u: Priced, count: (n: number) => string): string | null {
  if (!u.cost_partial) return null;
  return `${count(u.unpriced_tokens)} tokens without a price: ${UNPRICED_WHY}`;
}
