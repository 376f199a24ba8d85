// Bead detail: editable fields, dependencies, history from the event log, its agent's
// terminal and its merge request.
import { useEffect, useState } from 'react';
import type { BeadView } from '../../../shared/domain';
import { describeEvent } from '../../../shared/event-text';
import { useDark } from '../App';
import { agentTone, beadTone, mrTone, Pill, Priority } from '../components/bits';
import { AgentControls } from '../components/AgentControls';
import { TerminalView } from '../components/TerminalView';
import { Ago } from '../components/time';
import { UsageLine } from '../components/usage';
import { getBackend, useTown } from '../state/town-store';
import { agentOf, convoysOf, isLive, mergeRequestOf } from '../state/selectors';
import { attempt, openBead, openTerminal } from '../state/ui-store';
import { useRecentEvents } from './Overview';
import { ActionScope } from '../components/Connection';

export function BeadDetail({ id }: { id: string }) {
  const bead = useTown((s) => s.entities.bead.get(id));
  const entities = useTown((s) => s.entities);
  const history = useRecentEvents(100, id);
  const dark = useDark();
  if (!bead) {
    return (
      <aside className="detail" aria-label="Bead detail">
        <button className="ghost close" aria-label="Close" onClick={() => openBead(null)}>×</button>
        <p className="empty">Bead {id} is not in this town.</p>
      </aside>
    );
  }
  const agent = agentOf(entities, bead);
  const mr = mergeRequestOf(entities, bead.id);
  const convoys = convoysOf(entities, bead.id);
  const api = getBackend();
  return (
    <aside className="detail" aria-label={`Bead ${bead.id}`} data-bead={bead.id}>
      <button className="ghost close" aria-label="Close (Esc)" onClick={() => openBead(null)}>×</button>
      {/* Closing the panel stays possible while the engine is away; its actions do not. */}
      <ActionScope>
        <div className="detail-head">
          <code className="bead-id">{bead.id}</code>
          <Pill tone={beadTone(bead.status)}>{bead.status.replace('_', ' ')}</Pill>
          <Priority value={bead.priority} />
          {bead.held_at && <Pill tone="warn">held</Pill>}
          <span className="muted small">{bead.type}</span>
        </div>
        <EditableFields key={bead.id} bead={bead} />
        <div className="detail-actions">
          {bead.held_at ? (
            <button onClick={() => void attempt(() => api.call('bead.release', { id: bead.id }), `Released ${bead.id}; it can be dispatched again`)}>Release</button>
          ) : (
            bead.status === 'open' && (
              <button onClick={() => void attempt(() => api.call('bead.hold', { id: bead.id }), `Held ${bead.id}`, () => api.call('bead.release', { id: bead.id }))} title="Keep it out of dispatch until you release it">
                Hold
              </button>
            )
          )}
          {bead.status === 'open' && bead.rig && !bead.held_at && (
            <button onClick={() => void attempt(() => api.call('sling', { bead: bead.id }), `Slung ${bead.id} to ${bead.rig}`)}>Sling to {bead.rig}</button>
          )}
          {bead.status !== 'closed' && bead.status !== 'failed' ? (
            <button onClick={() => void attempt(() => api.call('bead.close', { id: bead.id }), `Closed ${bead.id}`, () => api.call('bead.reopen', { id: bead.id }))}>Close</button>
          ) : (
            <button onClick={() => void attempt(() => api.call('bead.reopen', { id: bead.id }), `Reopened ${bead.id}`)}>Reopen</button>
          )}
        </div>

        <dl className="fields">
          <dt>Rig</dt>
          <dd>{bead.rig ?? <span className="warn">none: nothing can work it</span>}</dd>
          <dt>Assignee</dt>
          <dd>{bead.assignee ?? '—'}</dd>
          {bead.held_at && (
            <>
              <dt>Held</dt>
              <dd className="warn"><Ago at={bead.held_at} />{bead.held_reason ? ` · ${bead.held_reason}` : ''} · not dispatched until released</dd>
            </>
          )}
          {bead.dispatch_paused && (
            <>
              <dt>Dispatch</dt>
              <dd className="warn" data-field="dispatch-paused">{bead.dispatch_paused}: not dispatched until the budget is raised</dd>
            </>
          )}
          <dt>Attempts</dt>
          <dd>{bead.dispatch_attempts}</dd>
          <dt>Cost</dt>
          <dd data-field="usage"><UsageLine usage={bead.usage} /> {bead.usage && <span className="muted small">over all its sessions</span>}</dd>
          <dt>Created</dt>
          <dd><Ago at={bead.created_at} /> by {bead.origin.kind === 'user' ? 'you' : bead.origin.id}</dd>
          {bead.closed_at && (
            <>
              <dt>Closed</dt>
              <dd><Ago at={bead.closed_at} />{bead.close_reason ? ` · ${bead.close_reason}` : ''}</dd>
            </>
          )}
          {convoys.length > 0 && (
            <>
              <dt>Convoy</dt>
              <dd>{convoys.map((c) => c.title).join(', ')}</dd>
            </>
          )}
        </dl>

        <Dependencies bead={bead} />

        {mr && (
          <section className="detail-section" aria-label="Merge request">
            <h3>Merge request <Pill tone={mrTone(mr.state)}>{mr.state}</Pill></h3>
            <div className="muted small"><code>{mr.branch}</code> → <code>{mr.target}</code> · attempts {mr.attempts}{mr.merge_sha ? ` · merged as ${mr.merge_sha.slice(0, 10)}` : ''}</div>
            {mr.blocked_reason && <div className="warn small">{mr.blocked_reason}</div>}
            {mr.flaky && <div className="warn small">flaky: a gate failed, then passed on its single rerun</div>}
            {mr.failure && <pre className="tail">{mr.failure.type}{'\n'}{mr.failure.tail}</pre>}
          </section>
        )}

        {agent && (
          <section className="detail-section" aria-label="Agent">
            <h3>
              {agent.name} <Pill tone={agentTone(agent.status)}>{agent.status}</Pill>
              {isLive(agent) && <button className="link" onClick={() => openTerminal(agent.id)}>open in Terminals</button>}
              {agent.hook === bead.id && <AgentControls agent={agent} small />}
            </h3>
            {isLive(agent) && agent.hook === bead.id ? (
              <div className="detail-terminal">
                <TerminalView agent={agent.id} dark={dark} sizesAgent={false} />
              </div>
            ) : (
              <div className="muted small">No live session.</div>
            )}
          </section>
        )}

        <section className="detail-section" aria-label="History">
          <h3>History</h3>
          <ol className="events history">
            {[...history].reverse().map((e) => (
              <li key={e.seq}>
                <span className="muted"><Ago at={e.created_at} /></span> <code>{e.type}</code> {e.agent && <span className="muted">{e.agent}</span>}{' '}
                {describeEvent(e.type, e.payload)}
              </li>
            ))}
          </ol>
        </section>
      </ActionScope>
    </aside>
  );
}

function EditableFields({ bead }: { bead: BeadView }) {
  const [title, setTitle] = useState(bead.title);
  const [body, setBody] = useState(bead.body);
  const [labels, setLabels] = useState(bead.labels.join(', '));
  useEffect(() => setTitle(bead.title), [bead.title]);
  useEffect(() => setBody(bead.body), [bead.body]);
  useEffect(() => setLabels(bead.labels.join(', ')), [bead.labels.join(',')]);
  const api = getBackend();
  const terminal = bead.status === 'closed' || bead.status === 'failed';
  const saveTitle = () => title.trim() && title !== bead.title && void attempt(() => api.call('bead.update', { id: bead.id, title }), 'Title saved', () => api.call('bead.update', { id: bead.id, title: bead.title }));
  const saveBody = () => body !== bead.body && void attempt(() => api.call('bead.update', { id: bead.id, body }), 'Description saved', () => api.call('bead.update', { id: bead.id, body: bead.body }));
  const saveLabels = () => {
    const next = [...new Set(labels.split(',').map((l) => l.trim()).filter(Boolean))];
    const add = next.filter((l) => !bead.labels.includes(l));
    const remove = bead.labels.filter((l) => !next.includes(l));
    if (add.length || remove.length) void attempt(() => api.call('bead.update', { id: bead.id, add_labels: add, remove_labels: remove }), 'Labels saved');
  };
  return (
    <div className="editable">
      <input
        className="title-input"
        aria-label="Title"
        value={title}
        disabled={terminal}
        onChange={(e) => setTitle(e.target.value)}
        onBlur={saveTitle}
        onKeyDown={(e) => {
          if (e.key === 'Enter') (e.target as HTMLInputElement).blur();
          if (e.key === 'Escape') setTitle(bead.title);
        }}
      />
      <div className="form-row">
        <label className="field compact">
          <span>Priority</span>
          <select
            aria-label="Priority"
            value={bead.priority}
            disabled={terminal}
            onChange={(e) => void attempt(() => api.call('bead.update', { id: bead.id, priority: Number(e.target.value) }), 'Priority saved')}
          >
            {[0, 1, 2, 3, 4].map((p) => (
              <option key={p} value={p}>P{p}</option>
            ))}
          </select>
        </label>
        <label className="field compact grow">
          <span>Labels</span>
          <input aria-label="Labels" value={labels} disabled={terminal} onChange={(e) => setLabels(e.target.value)} onBlur={saveLabels} onKeyDown={(e) => e.key === 'Enter' && (e.target as HTMLInputElement).blur()} placeholder="comma, separated" />
        </label>
      </div>
      <textarea aria-label="Description" value={body} disabled={terminal} onChange={(e) => setBody(e.target.value)} onBlur={saveBody} placeholder="Description (what done looks like)" rows={4} />
    </div>
  );
}

function Dependencies({ bead }: { bead: BeadView }) {
  const beads = useTown((s) => s.entities.bead);
  const dependents = [...beads.values()].filter((b) => b.depends_on.includes(bead.id) && b.type !== 'convoy');
  const [adding, setAdding] = useState('');
  const api = getBackend();
  const deps = bead.depends_on.filter((d) => beads.get(d)?.type !== 'convoy');
  return (
    <section className="detail-section" aria-label="Dependencies">
      <h3>Dependencies</h3>
      <div className="small">Waits on:</div>
      <ul className="chips">
        {deps.length === 0 && <li className="muted small">nothing</li>}
        {deps.map((d) => (
          <li key={d} className={`dep-chip ${bead.blocked_by.includes(d) ? 'open' : 'done'}`}>
            <button className="link" onClick={() => openBead(d)}>{d}</button> {beads.get(d)?.title}
            <button className="ghost small" aria-label={`Stop waiting on ${d}`} onClick={() => void attempt(() => api.call('dep.remove', { bead: bead.id, depends_on: d }), `${bead.id} no longer waits on ${d}`, () => api.call('dep.add', { bead: bead.id, depends_on: d }))}>×</button>
          </li>
        ))}
      </ul>
      <form
        className="inline-form"
        onSubmit={async (e) => {
          e.preventDefault();
          const ok = await attempt(() => api.call('dep.add', { bead: bead.id, depends_on: adding.trim() }), `${bead.id} now waits on ${adding.trim()}`);
          if (ok) setAdding('');
        }}
      >
        <input aria-label="Add a blocker by id" placeholder="bead id it waits on" value={adding} onChange={(e) => setAdding(e.target.value)} list="all-beads" />
        <datalist id="all-beads">
          {beads.list().slice(0, 500).map((b) => <option key={b.id} value={b.id}>{b.title}</option>)}
        </datalist>
        <button type="submit" disabled={!adding.trim()}>Add</button>
      </form>
      {dependents.length > 0 && (
        <>
          <div className="small">Blocks:</div>
          <ul className="chips">
            {dependents.map((b) => (
              <li key={b.id} className="dep-chip"><button className="link" onClick={() => openBead(b.id)}>{b.id}</button> {b.title}</li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}
