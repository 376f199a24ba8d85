// Tokens and spend as the UI shows them: compact counts ("12.3k"), dollars to the cent
// or, below a dollar, to a tenth of a cent ("$0.042"), the detail in a tooltip. A cost no
// runtime reported (Codex) is shown as unknown, never as $0.
import { costWords, unpricedWhy } from '../../../shared/cost';
import type { UsageTotals } from '../../../shared/domain';

/** 950 → "950", 12_345 → "12.3k", 4_200_000 → "4.2M". */
export function compactCount(n: number): string {
  if (n < 1000) return String(Math.round(n));
  const [v, unit] = n < 1e6 ? [n / 1e3, 'k'] : n < 1e9 ? [n / 1e6, 'M'] : [n / 1e9, 'B'];
  return `${v < 100 ? v.toFixed(1).replace(/\.0$/, '') : Math.round(v)}${unit}`;
}

/** 0.0421 → "$0.042", 3.5 → "$3.50"; a spend under a tenth of a cent still shows it is not zero. */
export function money(usd: number): string {
  if (usd === 0) return '$0';
  if (usd < 0.001) return '<$0.001';
  return `$${usd.toFixed(usd < 1 ? 3 : 2)}`;
}

export const cacheTokens = (u: UsageTotals) => u.cache_creation_tokens + u.cache_read_tokens;
export const hasUsage = (u: UsageTotals | null | undefined): u is UsageTotals =>
  !!u && ((u.cost_usd ?? 0) > 0 || u.input_tokens + u.output_tokens + cacheTokens(u) > 0);

/** The exact figures, for a tooltip. */
export function usageDetail(u: UsageTotals): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return `${n(u.input_tokens)} input · ${n(u.output_tokens)} output · ${n(u.cache_creation_tokens)} cache write · ${n(u.cache_read_tokens)} cache read tokens · ${u.cost_usd === null ? 'no price' : `$${u.cost_usd.toFixed(4)}`}${u.cost_partial ? `\n${unpricedWhy(u, n)}` : ''}`;
}

/** The cost as far as it is priced: "$0.042", "$1.20 + 30k tokens without a price", or "—" (the tooltip says why). */
export function Cost({ usage, short = false }: { usage: UsageTotals; short?: boolean }) {
  const state = usage.cost_usd === null ? 'unknown' : usage.cost_partial ? 'partial' : 'known';
  return (
    <span className={`cost${state === 'known' ? '' : ' cost-unpriced'}`} data-cost={state} title={usageDetail(usage)}>
      {costWords(usage, money, compactCount, short)}
    </span>
  );
}

/** "12.3k in · 1.2k out · 40k cache · $0.042" on one line, exact figures on hover. */
export function UsageLine({ usage }: { usage: UsageTotals | null | undefined }) {
  if (!hasUsage(usage)) return <span className="muted">—</span>;
  return (
    <span className="usage" title={usageDetail(usage)}>
      <span>{compactCount(usage.input_tokens)} in · {compactCount(usage.output_tokens)} out · {compactCount(cacheTokens(usage))} cache</span>
      {' · '}
      <strong><Cost usage={usage} /></strong>
    </span>
  );
}
