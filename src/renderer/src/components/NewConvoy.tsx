// "+ New convoy": a title and, if wanted, a budget; the convoy is staged (nothing runs until
// it is started). A refused budget is said beside the form.
import { useState, type KeyboardEvent } from 'react';
import { ApiError, besideField } from '../../../shared/errors';
import { getBackend } from '../state/town-store';
import { errorText, notify } from '../state/ui-store';
import { BUDGET_WORDS, parseBudgetText } from './BudgetBar';

export function NewConvoy({ onCreated }: { onCreated: (id: string) => void }) {
  const [open, setOpen] = useState(false);
  const [title, setTitle] = useState('');
  const [budget, setBudget] = useState('');
  const [budgetError, setBudgetError] = useState<string | null>(null);
  if (!open)
    return (
      <button className="ghost" onClick={() => setOpen(true)}>
        + New convoy
      </button>
    );
  const cancel = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
  return (
    <form
      className="inline-form new-convoy"
      onSubmit={async (e) => {
        e.preventDefault();
        setBudgetError(null);
        const budgetUsd = parseBudgetText(budget);
        if (budgetUsd === undefined) return setBudgetError(BUDGET_WORDS);
        try {
          const c = await getBackend().call('convoy.create', { title, ...(budgetUsd !== null ? { budget_usd: budgetUsd } : {}) });
          notify(`Convoy “${title}” staged`);
          onCreated(c.id);
          setTitle('');
          setBudget('');
          setOpen(false);
        } catch (err) {
          if (err instanceof ApiError && err.field === 'budget_usd') setBudgetError(besideField(err.message, err.field));
          else notify(errorText(err), { kind: 'error' });
        }
      }}
    >
      <input autoFocus aria-label="Convoy title" placeholder="Convoy title" value={title} onChange={(e) => setTitle(e.target.value)} onKeyDown={cancel} />
      <input
        className="budget-input"
        inputMode="decimal"
        aria-label="Budget (USD)"
        placeholder="Budget $ (optional)"
        value={budget}
        aria-invalid={!!budgetError}
        onChange={(e) => setBudget(e.target.value)}
        onKeyDown={cancel}
      />
      <button type="submit" disabled={!title.trim()}>
        Create
      </button>
      {budgetError && (
        <span className="field-error small" role="alert">
          {budgetError}
        </span>
      )}
    </form>
  );
}
