// A convoy's spend against its budget: "$1.23 of $5.00" on a bar that turns amber at 80 %
// and red at 100 %, when the convoy's dispatch pauses (running agents go on). The budget is
// set or changed right here (empty: no budget); a raise above the spend resumes dispatch.
import { useState } from 'react';
import { UNPRICED_WHY } from '../../../shared/cost';
import type { ConvoyView } from '../../../shared/domain';
import { ApiError, besideField } from '../../../shared/errors';
import { getBackend } from '../state/town-store';
import { errorText, notify } from '../state/ui-store';
import { compactCount } from './usage';

const dollars = (n: number) => `$${n.toFixed(2)}`;

/** " + 30k tokens without a price", with why on hover: the budget cannot count them. */
function Unpriced({ tokens }: { tokens: number }) {
  if (tokens === 0) return null;
  return (
    <span className="cost-unpriced" data-field="unpriced" title={`${tokens.toLocaleString('en-US')} tokens without a price: ${UNPRICED_WHY}. The budget counts only priced spend.`}>
      {' + '}{compactCount(tokens)} tokens without a price
    </span>
  );
}

export function BudgetBar({ convoy }: { convoy: ConvoyView }) {
  const [editing, setEditing] = useState(false);
  const { budget_usd: budget, spend_usd: spend, budget_level: level, dispatch_paused: paused, unpriced_tokens: unpriced = 0 } = convoy;
  if (editing) return <BudgetEditor convoy={convoy} onDone={() => setEditing(false)} />;
  const edit = (
    <button className="ghost small" onClick={() => setEditing(true)} aria-label={`${budget === null ? 'Set' : 'Change'} the budget of ${convoy.title}`}>
      {budget === null ? 'Set budget' : 'Change'}
    </button>
  );
  if (budget === null) {
    return (
      <div className="budget budget-none small" data-budget="none">
        {(spend > 0 || unpriced > 0 || paused) && (
          <span className="muted">
            {dollars(spend)} spent<Unpriced tokens={unpriced} /> · no budget
          </span>
        )}
        {paused && <strong className="budget-paused"> · dispatch {paused}</strong>}
        {edit}
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
        <Unpriced tokens={unpriced} />
        {level === 'warning' && ' · 80 % reached'}
      </span>
      {paused && <strong className="budget-paused small">dispatch {paused}</strong>}
      {edit}
    </div>
  );
}

export const BUDGET_WORDS = 'Budget is a number of dollars, like 25 or 2.50 (empty: no budget)';

/** Dollars as typed ("25", "$2.50"): null for empty (no budget), undefined for words (refused here, never sent as "none"). */
export function parseBudgetText(text: string): number | null | undefined {
  const t = text.trim().replace(/^\$\s*/, '');
  if (!t) return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

function BudgetEditor({ convoy, onDone }: { convoy: ConvoyView; onDone: () => void }) {
  const [text, setText] = useState(convoy.budget_usd === null ? '' : String(convoy.budget_usd));
  const [error, setError] = useState<string | null>(null);
  const save = async () => {
    const value = parseBudgetText(text);
    if (value === undefined) return setError(BUDGET_WORDS);
    try {
      await getBackend().call('convoy.update', { convoy: convoy.id, budget_usd: value });
      notify(value === null ? `“${convoy.title}” has no budget now` : `“${convoy.title}” budget set to ${dollars(value)}`);
      onDone();
    } catch (err) {
      setError(err instanceof ApiError && err.field === 'budget_usd' ? besideField(err.message, err.field) : errorText(err));
    }
  };
  return (
    <form
      className="budget budget-edit small"
      aria-label={`Budget of ${convoy.title}`}
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <label className={`field inline ${error ? 'invalid' : ''}`}>
        <span>Budget (USD)</span>
        <input
          autoFocus
          inputMode="decimal"
          placeholder="none"
          value={text}
          aria-invalid={!!error}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={(e) => e.key === 'Escape' && onDone()}
        />
      </label>
      <button type="submit" className="primary small">
        Save
      </button>
      <button type="button" className="ghost small" onClick={onDone}>
        Cancel
      </button>
      <span className="muted">empty: no budget · Enter saves · Esc cancels</span>
      {error && (
        <span className="field-error budget-error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}
