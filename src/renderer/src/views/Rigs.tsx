// Rigs: add a repository (checked as you type: is it a git repo, does the branch
// exist), edit its settings, see its polecats and branches.
import { useShallow } from 'zustand/react/shallow';
import { useEffect, useState } from 'react';
import type { RigDetail, RigView } from '../../../shared/domain';
import { agentTone, Empty, Pill } from '../components/bits';
import { money } from '../components/usage';
import { getBackend, useTown } from '../state/town-store';
import { openBead } from '../state/ui-store';
import { PERMISSION_TEXT, RigForm } from './RigForm';

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
      {rigs.length === 0 ? (
        !adding && <Empty>No rigs yet. Add a git repository for agents to work on.</Empty>
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
          <dt>Permissions</dt>
          <dd>{rig.permissions} <span className="muted small">· {PERMISSION_TEXT[rig.permissions]}</span></dd>
          <dt>Model</dt>
          <dd>{rig.model ?? <span className="muted">runtime default</span>}</dd>
          <dt>Budget</dt>
          <dd>{rig.budget_usd !== null ? money(rig.budget_usd) : <span className="muted">none</span>}</dd>
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
