// A convoy's spend against its budget: "$1.23 of $5.00" on a bar that turns amber at 80 %
// and red at 100 %, when the convoy's dispatch pauses (running agents go on).
import type { ConvoyView } from '../../../shared/domain';

const dollars = (n: number) => `$${n.toFixed(2)}`;

export function BudgetBar({ convoy }: { convoy: ConvoyView }) {
  const { budget_usd: budget, spend_usd: spend, budget_level: level, dispatch_paused: paused } = convoy;
  if (budget === null) {
    if (spend === 0 && !paused) return null;
    return (
      <div className="budget budget-none small" data-budget="none">
        <span className="muted">{dollars(spend)} spent · no budget</span>
        {paused && <strong className="budget-paused"> · dispatch {paused}</strong>}
      </div>
    );
  }
  const pct = Math.min(100, Math.round((spend / budget) * 100));
  return (
    <div className={`budget budget-${level}`} data-budget={level}>
      <div className="budget-bar" role="meter" aria-valuemin={0} aria-valuemax={budget} aria-valuenow={spend} aria-label={`${convoy.title} spend`}>
        <div className="budget-fill" style={{ width: `${pct}%` }} />
      </div>
      <span className="budget-text small">
        {dollars(spend)} of {dollars(budget)}
        {level === 'warning' && ' · 80 % reached'}
      </span>
      {paused && <strong className="budget-paused small">dispatch {paused}</strong>}
    </div>
  );
}
