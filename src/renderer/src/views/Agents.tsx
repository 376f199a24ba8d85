// Agents: the roster with role, status, hooked bead, runtime (model, session), tokens and
// cost, the runtime's last hook and output age; Attach (and Allow/Deny when asked) in sight,
// nudge, stop and hold (confirmed) and restart in the row's ⋯ menu. Rows stay one line;
// exact figures and full texts are in tooltips.
import { useShallow } from 'zustand/react/shallow';
import { memo, useState } from 'react';
import type { AgentView } from '../../../shared/domain';
import { agentTone, Empty, Pill } from '../components/bits';
import { agentMenuItems, StopConfirm } from '../components/AgentControls';
import { MenuButton } from '../components/MenuButton';
import { PermissionButtons } from '../components/PermissionAnswer';
import { Ago } from '../components/time';
import { RuntimeCells } from '../components/AgentRuntime';
import { getBackend, useTown } from '../state/town-store';
import { isLive } from '../state/selectors';
import { attempt, openBead, openTerminal } from '../state/ui-store';

export function Agents() {
  const agents = useTown(useShallow((s) => s.entities.agent.list()));
  const sorted = [...agents].sort((a, b) => (a.rig ?? '').localeCompare(b.rig ?? '') || a.role.localeCompare(b.role) || a.name.localeCompare(b.name));
  return (
    <div className="view agents">
      <header className="view-head">
        <h1>Agents</h1>
        <span className="muted">{agents.filter(isLive).length} running</span>
      </header>
      {sorted.length === 0 ? (
        <Empty>No agents yet. Polecats appear when a bead is dispatched.</Empty>
      ) : (
        <div className="table-scroll">
        <table className="table agents-table">
          <thead>
            <tr>
              <th>Agent</th>
              <th>Status</th>
              <th>Hook</th>
              <th>Runtime</th>
              <th>Session</th>
              <th data-col="tokens" title="input / output / cache tokens">Tokens <span className="muted small">in/out/cache</span></th>
              <th>Cost</th>
              <th>Last hook</th>
              <th>Last output</th>
              <th aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {sorted.map((a) => (
              <AgentRow key={a.id} agent={a} />
            ))}
          </tbody>
        </table>
        </div>
      )}
    </div>
  );
}

/** One row; memoized, so a patch to one agent (its output time, every few seconds) re-renders that row only. */
const AgentRow = memo(function AgentRow({ agent: a }: { agent: AgentView }) {
  const [mode, setMode] = useState<'buttons' | 'nudging' | 'stopping'>('buttons');
  const [text, setText] = useState('');
  const api = getBackend();
  const live = isLive(a);
  return (
    <tr data-agent={a.id}>
      <td className="nowrap" title={a.id}>
        <strong>{a.name}</strong> <span className="muted small">{a.role}</span>
      </td>
      <td className="nowrap">
        <Pill tone={agentTone(a.status)}>{a.status}</Pill>{' '}
        {a.status_since && <span className="muted small"><Ago at={a.status_since} /></span>}
        {a.restarts > 0 && <span className="muted small" title="restarts on its current work"> · ↻{a.restarts}</span>}
        {a.evidence && <div className="muted small evidence" title={a.evidence.summary}>{a.evidence.summary}</div>}
      </td>
      <td className="nowrap">
        {a.hook ? (
          <button className="link" onClick={() => openBead(a.hook)}>
            {a.hook}
          </button>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <RuntimeCells agent={a} />
      <td className="nowrap">
        <Ago at={a.last_output_at} />
      </td>
      <td className="actions">
        {mode === 'nudging' ? (
          <form
            className="inline-form"
            onSubmit={async (e) => {
              e.preventDefault();
              const ok = await attempt(() => api.call('agent.input', { agent: a.id, data: `${text}\r` }), `Nudged ${a.name}`);
              if (ok) {
                setText('');
                setMode('buttons');
              }
            }}
          >
            <input autoFocus aria-label={`Message for ${a.name}`} placeholder="Type a message" value={text} onChange={(e) => setText(e.target.value)} onKeyDown={(e) => e.key === 'Escape' && setMode('buttons')} />
            <button type="submit" disabled={!text}>
              Send
            </button>
            <button type="button" className="ghost" onClick={() => setMode('buttons')}>
              Cancel
            </button>
          </form>
        ) : mode === 'stopping' ? (
          <StopConfirm agent={a} onDone={() => setMode('buttons')} />
        ) : (
          <span className="agent-controls">
            <button disabled={!a.session} onClick={() => openTerminal(a.id)} title="Open its terminal">
              Attach
            </button>
            <PermissionButtons agent={a} />
            <MenuButton
              label="⋯"
              ariaLabel={`More actions for ${a.name}`}
              items={[
                { label: 'Nudge…', onSelect: () => setMode('nudging'), disabled: !live, title: 'Type a message into its terminal' },
                ...agentMenuItems(a, () => setMode('stopping')),
              ]}
            />
          </span>
        )}
      </td>
    </tr>
  );
});
