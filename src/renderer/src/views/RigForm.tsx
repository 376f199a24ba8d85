// The rig form: add a repository (checked as you type) or edit a rig's settings, including
// which agent runtime it runs, how much its agents may do unasked, the model and a budget.
// The engine validates; its refusal is shown beside the field it names.
import { useEffect, useState } from 'react';
import type { Gate, PermissionMode, RigCheck, RigView, RuntimeName } from '../../../shared/domain';
import { PERMISSION_MODES, RUNTIMES } from '../../../shared/domain';
import { ApiError, besideField } from '../../../shared/errors';
import { getBackend } from '../state/town-store';
import { errorText, notify } from '../state/ui-store';

/** One line per permission mode: what the overseer will see. */
export const PERMISSION_TEXT: Record<PermissionMode, string> = {
  ask: 'every permission prompt comes to you as waiting, with the tool and command',
  auto: 'file edits are accepted; commands still ask you',
  bypass: 'nothing is asked; the agent runs any tool in its worktree',
};

const RUNTIME_TEXT: Record<RuntimeName, string> = {
  claude: 'claude — Claude Code',
  codex: 'codex — OpenAI Codex',
  scripted: 'scripted — built-in stand-in',
  shell: 'shell — a command you give',
};
// The real agents first: they are what a rig is usually for.
const RUNTIME_ORDER: RuntimeName[] = ['claude', 'codex', 'scripted', 'shell'].filter((r): r is RuntimeName => (RUNTIMES as readonly string[]).includes(r));

/** Dollars as typed ("25", "$2.50"); '' is no budget; anything else not a number is refused here (NaN would reach the wire as null). */
function parseBudget(text: string): { ok: true; value: number | null } | { ok: false } {
  const t = text.trim().replace(/^\$\s*/, '');
  if (!t) return { ok: true, value: null };
  const n = Number(t);
  return Number.isFinite(n) ? { ok: true, value: n } : { ok: false };
}

/** Add (no rig) or edit (rig given). Problems are shown next to the field they concern. */
export function RigForm({ rig, onDone }: { rig?: RigView; onDone: (created?: string) => void }) {
  const [name, setName] = useState(rig?.name ?? '');
  const [path, setPath] = useState(rig?.path ?? '');
  const [branch, setBranch] = useState(rig?.default_branch ?? '');
  const [test, setTest] = useState(rig?.gates.find((g) => g.name === 'test')?.command ?? '');
  const [setup, setSetup] = useState(rig?.setup_command ?? '');
  const [capacity, setCapacity] = useState(rig?.max_polecats ?? 3);
  const [runtime, setRuntime] = useState<RuntimeName>(rig?.runtime ?? 'scripted');
  const [command, setCommand] = useState(rig?.command ?? '');
  const [permissions, setPermissions] = useState<PermissionMode>(rig?.permissions ?? 'bypass');
  const [model, setModel] = useState(rig?.model ?? '');
  const [budget, setBudget] = useState(rig?.budget_usd != null ? String(rig.budget_usd) : '');
  const [check, setCheck] = useState<RigCheck | null>(null);
  const [error, setError] = useState<{ field?: string; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const api = getBackend();

  useEffect(() => {
    if (rig || !path.trim()) return setCheck(null);
    const t = setTimeout(() => {
      api.call('rig.check', { path, ...(branch ? { default_branch: branch } : {}) }).then(
        (c) => {
          setCheck(c);
          if (!branch && c.current_branch) setBranch(c.current_branch);
        },
        () => {},
      );
    }, 250);
    return () => clearTimeout(t);
  }, [path, branch]);

  const submit = async () => {
    setError(null);
    const budgetUsd = parseBudget(budget);
    if (!budgetUsd.ok) return setError({ field: 'budget_usd', text: 'Budget is a number of dollars, like 25 or 2.50 (empty: no budget)' });
    setBusy(true);
    const gates: Gate[] = test.trim() ? [{ name: 'test', command: test.trim(), timeout_s: 600 }] : [];
    const shellCommand = runtime === 'shell' ? command.trim() : '';
    try {
      if (rig) {
        const others = rig.gates.filter((g) => g.name !== 'test');
        await api.call('rig.update', {
          name: rig.id,
          default_branch: branch,
          gates: [...gates, ...others],
          setup: setup.trim() || null,
          max_polecats: capacity,
          runtime,
          command: shellCommand || null,
          permissions,
          model: model.trim() || null,
          budget_usd: budgetUsd.value,
        });
        notify(`Saved ${rig.name}`);
        onDone();
      } else {
        const r = await api.call('rig.add', {
          name,
          path,
          ...(branch ? { default_branch: branch } : {}),
          ...(gates.length ? { gates } : {}),
          ...(setup.trim() ? { setup: setup.trim() } : {}),
          max_polecats: capacity,
          runtime,
          ...(shellCommand ? { command: shellCommand } : {}),
          permissions,
          ...(model.trim() ? { model: model.trim() } : {}),
          ...(budgetUsd.value !== null ? { budget_usd: budgetUsd.value } : {}),
        });
        notify(`Added rig ${r.name}`);
        onDone(r.id);
      }
    } catch (err) {
      setError({ field: err instanceof ApiError ? err.field : undefined, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };

  const fieldError = (f: string) =>
    error?.field === f ? besideField(error.text, f) : !rig && check && !check.ok && check.field === f ? check.problem : null;
  // An error for a field this form does not show (a gate's timeout, say) still shows, below.
  const shown = ['name', 'path', 'default_branch', 'gates.0.command', 'setup', 'max_polecats', 'runtime', 'command', 'permissions', 'model', 'budget_usd'];

  return (
    <form
      className="panel form"
      aria-label={rig ? `Edit ${rig.name}` : 'Add a rig'}
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          onDone();
        }
      }}
    >
      {!rig && (
        <>
          <Field label="Name" error={fieldError('name')}>
            <input autoFocus required value={name} onChange={(e) => setName(e.target.value)} placeholder="webapp" />
          </Field>
          <Field label="Folder (a git repository)" error={fieldError('path')} ok={check?.ok ? `git repository · ${check.branches.length} branch${check.branches.length === 1 ? "" : "es"}` : undefined}>
            <input required value={path} onChange={(e) => setPath(e.target.value)} placeholder="/home/me/src/webapp" />
          </Field>
        </>
      )}
      <Field label="Default branch" error={fieldError('default_branch')}>
        {check?.branches.length || rig ? (
          <input autoFocus={!!rig} list="rig-branches" value={branch} onChange={(e) => setBranch(e.target.value)} />
        ) : (
          <input value={branch} onChange={(e) => setBranch(e.target.value)} placeholder="main" />
        )}
        <datalist id="rig-branches">
          {(check?.branches ?? []).map((b) => (
            <option key={b} value={b} />
          ))}
        </datalist>
      </Field>
      <Field label="Test gate (run on every merge candidate)" error={fieldError('gates.0.command')}>
        <input value={test} onChange={(e) => setTest(e.target.value)} placeholder="npm test" />
      </Field>
      <Field label="Setup (runs once per new worktree)" error={fieldError('setup')}>
        <input value={setup} onChange={(e) => setSetup(e.target.value)} placeholder="npm install" />
      </Field>
      <div className="form-row top">
        <Field label="Runtime" error={fieldError('runtime')}>
          <select aria-label="Runtime" value={runtime} onChange={(e) => setRuntime(e.target.value as RuntimeName)} aria-invalid={!!fieldError('runtime')}>
            {RUNTIME_ORDER.map((r) => (
              <option key={r} value={r}>{RUNTIME_TEXT[r]}</option>
            ))}
          </select>
        </Field>
        <Field label="Model" error={fieldError('model')} grow>
          <input value={model} onChange={(e) => setModel(e.target.value)} placeholder="runtime default" aria-invalid={!!fieldError('model')} />
        </Field>
      </div>
      {runtime === 'shell' && (
        <Field label="Command template" error={fieldError('command')}>
          <input value={command} onChange={(e) => setCommand(e.target.value)} placeholder="my-agent --prompt-file {prompt}" />
        </Field>
      )}
      <fieldset className={`field choices ${fieldError('permissions') ? 'invalid' : ''}`}>
        <legend>Permission mode</legend>
        {PERMISSION_MODES.map((m) => (
          <label key={m} className="choice">
            <input type="radio" name="permissions" value={m} checked={permissions === m} onChange={() => setPermissions(m)} />
            <strong>{m}</strong>
            <span className="muted">{PERMISSION_TEXT[m]}</span>
          </label>
        ))}
        {fieldError('permissions') && <span className="field-error" role="alert">{fieldError('permissions')}</span>}
      </fieldset>
      <div className="form-row top">
        <Field label="Capacity" error={fieldError('max_polecats')}>
          <input type="number" min={1} max={64} value={capacity} onChange={(e) => setCapacity(Number(e.target.value))} />
        </Field>
        <Field label="Budget (USD)" error={fieldError('budget_usd')} hint="empty: no budget">
          <input inputMode="decimal" value={budget} onChange={(e) => setBudget(e.target.value)} placeholder="none" aria-invalid={!!fieldError('budget_usd')} />
        </Field>
      </div>
      {error && (!error.field || !shown.includes(error.field)) && <div className="inline-error" role="alert">{error.text}</div>}
      <div className="form-row">
        <button type="submit" className="primary" disabled={busy || (!rig && (!name || !path || (check !== null && !check.ok)))}>
          {rig ? 'Save' : 'Add rig'}
        </button>
        <button type="button" className="ghost" onClick={() => onDone()}>
          Cancel
        </button>
        <span className="muted small">Enter saves · Esc cancels</span>
      </div>
    </form>
  );
}

function Field({ label, error, ok, hint, grow, children }: { label: string; error?: string | null; ok?: string; hint?: string; grow?: boolean; children: React.ReactNode }) {
  return (
    <label className={`field ${error ? 'invalid' : ''} ${grow ? 'grow' : ''}`}>
      <span>{label}</span>
      {children}
      {error ? <span className="field-error" role="alert">{error}</span> : ok ? <span className="field-ok">{ok}</span> : hint ? <span className="muted small">{hint}</span> : null}
    </label>
  );
}
