// Rigs: add a repository (checked as you type: is it a git repo, does the branch
// exist), edit its settings, see its polecats and branches.
import { useShallow } from 'zustand/react/shallow';
import { useEffect, useState } from 'react';
import type { Gate, RigCheck, RigDetail, RigView, RuntimeName } from '../../../shared/domain';
import { RUNTIMES } from '../../../shared/domain';
import { ApiError } from '../../../shared/errors';
import { agentTone, Empty, Pill } from '../components/bits';
import { getBackend, useTown } from '../state/town-store';
import { errorText, notify, openBead } from '../state/ui-store';

export function Rigs() {
  const rigs = useTown(useShallow((s) => s.entities.rig.list()));
  const [adding, setAdding] = useState(false);
  const [selected, setSelected] = useState<string | null>(null);
  const rig = rigs.find((r) => r.id === selected) ?? rigs[0] ?? null;
  return (
    <div className="view rigs">
      <header className="view-head">
        <h1>Rigs</h1>
        <button className="primary" onClick={() => setAdding(true)}>
          Add rig
        </button>
      </header>
      {adding && <RigForm onDone={(id) => (setAdding(false), id && setSelected(id))} />}
      {rigs.length === 0 && !adding ? (
        <Empty>No rigs yet. Add a git repository for agents to work on.</Empty>
      ) : (
        <div className="rigs-grid">
          <ul className="rows rig-list" aria-label="Rigs">
            {rigs.map((r) => (
              <li key={r.id} className={`row ${rig?.id === r.id ? 'selected' : ''}`}>
                <button className="row-main" onClick={() => setSelected(r.id)}>
                  <strong>{r.name}</strong>
                  <span className="muted small">{r.path}</span>
                </button>
              </li>
            ))}
          </ul>
          {rig && <RigPanel key={rig.id} rig={rig} />}
        </div>
      )}
    </div>
  );
}

function RigPanel({ rig }: { rig: RigView }) {
  const [detail, setDetail] = useState<RigDetail | null>(null);
  const [editing, setEditing] = useState(false);
  const revision = useTown((s) => s.revision);
  useEffect(() => {
    let live = true;
    getBackend().call('rig.show', { name: rig.id }).then((d) => live && setDetail(d), () => {});
    return () => {
      live = false;
    };
  }, [rig, revision]);
  return (
    <section className="panel" aria-label={`Rig ${rig.name}`}>
      <div className="convoy-head">
        <h2>{rig.name}</h2>
        <code className="bead-id">{rig.prefix}-</code>
        <button className="ghost" onClick={() => setEditing((e) => !e)}>
          {editing ? 'Close editor' : 'Edit'}
        </button>
      </div>
      {editing ? (
        <RigForm rig={rig} onDone={() => setEditing(false)} />
      ) : (
        <dl className="fields">
          <dt>Path</dt>
          <dd><code>{rig.path}</code></dd>
          <dt>Default branch</dt>
          <dd>{rig.default_branch}</dd>
          <dt>Gates</dt>
          <dd>{rig.gates.length ? rig.gates.map((g) => <div key={g.name}><code>{g.name}: {g.command}</code></div>) : <span className="muted">none (merges are not tested)</span>}</dd>
          <dt>Setup</dt>
          <dd>{rig.setup_command ? <code>{rig.setup_command}</code> : <span className="muted">none</span>}</dd>
          <dt>Capacity</dt>
          <dd>{rig.max_polecats} polecats</dd>
          <dt>Runtime</dt>
          <dd>{rig.runtime}{rig.command ? <code> {rig.command}</code> : null}</dd>
          <dt>Auto-dispatch</dt>
          <dd>{rig.auto_dispatch ? 'on: ready beads start by themselves' : 'off: sling or start a convoy'}</dd>
        </dl>
      )}
      <h3>Polecats</h3>
      {detail?.polecats.length ? (
        <ul className="rows">
          {detail.polecats.map((p) => (
            <li key={p.id} className="row">
              <div className="row-main">
                <strong>{p.name}</strong> <Pill tone={agentTone(p.status)}>{p.status}</Pill>
                {p.hook && <button className="link" onClick={() => openBead(p.hook)}>{p.hook}</button>}
                <span className="muted small">{p.worktree}</span>
              </div>
            </li>
          ))}
        </ul>
      ) : (
        <Empty>No polecats yet.</Empty>
      )}
      <h3>Branches</h3>
      <ul className="rows">
        {(detail?.branches ?? []).map((b) => (
          <li key={b.name} className="row">
            <div className="row-main">
              <code>{b.name}</code> <span className="muted small">{b.sha.slice(0, 10)}</span>
              {b.agent && <span className="muted small">{b.agent}</span>}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Add (no rig) or edit (rig given). Problems are shown next to the field they concern. */
function RigForm({ rig, onDone }: { rig?: RigView; onDone: (created?: string) => void }) {
  const [name, setName] = useState(rig?.name ?? '');
  const [path, setPath] = useState(rig?.path ?? '');
  const [branch, setBranch] = useState(rig?.default_branch ?? '');
  const [test, setTest] = useState(rig?.gates.find((g) => g.name === 'test')?.command ?? '');
  const [setup, setSetup] = useState(rig?.setup_command ?? '');
  const [capacity, setCapacity] = useState(rig?.max_polecats ?? 3);
  const [runtime, setRuntime] = useState<RuntimeName>(rig?.runtime ?? 'scripted');
  const [command, setCommand] = useState(rig?.command ?? '');
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
    setBusy(true);
    setError(null);
    const gates: Gate[] = test.trim() ? [{ name: 'test', command: test.trim(), timeout_s: 600 }] : [];
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
          command: command.trim() || null,
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
          ...(command.trim() ? { command: command.trim() } : {}),
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
    error?.field === f ? error.text : !rig && check && !check.ok && check.field === f ? check.problem : null;

  return (
    <form
      className="panel form"
      aria-label={rig ? `Edit ${rig.name}` : 'Add a rig'}
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      {!rig && (
        <>
          <Field label="Name" error={fieldError('name')}>
            <input required value={name} onChange={(e) => setName(e.target.value)} placeholder="webapp" />
          </Field>
          <Field label="Folder (a git repository)" error={fieldError('path')} ok={check?.ok ? `git repository · ${check.branches.length} branch${check.branches.length === 1 ? "" : "es"}` : undefined}>
            <input required value={path} onChange={(e) => setPath(e.target.value)} placeholder="/home/me/src/webapp" />
          </Field>
        </>
      )}
      <Field label="Default branch" error={fieldError('default_branch')}>
        {check?.branches.length || rig ? (
          <input list="rig-branches" value={branch} onChange={(e) => setBranch(e.target.value)} />
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
      <div className="form-row">
        <Field label="Capacity" error={fieldError('max_polecats')}>
          <input type="number" min={1} max={64} value={capacity} onChange={(e) => setCapacity(Number(e.target.value))} />
        </Field>
        <Field label="Runtime" error={fieldError('runtime')}>
          <select value={runtime} onChange={(e) => setRuntime(e.target.value as RuntimeName)}>
            {RUNTIMES.map((r) => (
              <option key={r} value={r}>{r}</option>
            ))}
          </select>
        </Field>
      </div>
      {runtime === 'shell' && (
        <Field label="Command template" error={fieldError('command')}>
          <input value={command} onChange={(e) => setCommand(e.target.value)} placeholder="claude --prompt-file {prompt}" />
        </Field>
      )}
      {error && !error.field && <div className="inline-error" role="alert">{error.text}</div>}
      <div className="form-row">
        <button type="submit" className="primary" disabled={busy || (!rig && (!name || !path || (check !== null && !check.ok)))}>
          {rig ? 'Save' : 'Add rig'}
        </button>
        <button type="button" className="ghost" onClick={() => onDone()}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function Field({ label, error, ok, children }: { label: string; error?: string | null; ok?: string; children: React.ReactNode }) {
  return (
    <label className={`field ${error ? 'invalid' : ''}`}>
      <span>{label}</span>
      {children}
      {error ? <span className="field-error" role="alert">{error}</span> : ok ? <span className="field-ok">{ok}</span> : null}
    </label>
  );
}

