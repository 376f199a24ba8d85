// Terminals: attached agent sessions in tabs or side by side. Only visible terminals are
// mounted (and attached), so hidden ones cost nothing; reopening restores the screen.
import { useDark } from '../App';
import { TerminalView } from '../components/TerminalView';
import { Empty } from '../components/bits';
import { useOnline } from '../components/Connection';
import { useTown } from '../state/town-store';
import { closeTerminal, openTerminal, useUi } from '../state/ui-store';

export function Terminals() {
  const terminals = useUi((s) => s.terminals);
  const active = useUi((s) => s.activeTerminal);
  const layout = useUi((s) => s.terminalLayout);
  const agents = useTown((s) => s.entities.agent);
  const dark = useDark();
  const online = useOnline();
  const attachable = agents.list().filter((a) => a.session && !terminals.includes(a.id));
  const visible = layout === 'split' ? terminals : terminals.filter((t) => t === active);

  return (
    <div className="view terminals">
      <header className="view-head">
        <h1>Terminals</h1>
        <div className="term-tabs" role="tablist">
          {terminals.map((t) => (
            <span key={t} className={`tab ${t === active ? 'active' : ''}`} role="tab" aria-selected={t === active}>
              <button className="ghost" onClick={() => useUi.setState({ activeTerminal: t })}>
                {agents.get(t)?.name ?? t}
              </button>
              <button className="ghost small" aria-label={`Close ${t}`} onClick={() => closeTerminal(t)}>
                ×
              </button>
            </span>
          ))}
        </div>
        <select
          aria-label="Attach an agent"
          value=""
          onChange={(e) => e.target.value && openTerminal(e.target.value)}
          disabled={attachable.length === 0 || !online}
        >
          <option value="">{attachable.length ? 'Attach…' : 'No other live sessions'}</option>
          {attachable.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name} ({a.status})
            </option>
          ))}
        </select>
        <button className="ghost" onClick={() => useUi.setState({ terminalLayout: layout === 'tabs' ? 'split' : 'tabs' })} disabled={terminals.length < 2}>
          {layout === 'tabs' ? 'Side by side' : 'Tabs'}
        </button>
      </header>
      {terminals.length === 0 ? (
        <Empty>No terminal open. Attach an agent from here, the Agents view or the command palette (Ctrl K).</Empty>
      ) : (
        <div className={`term-grid n${Math.min(visible.length, 4)}`}>
          {visible.map((t) => (
            <TerminalView key={t} agent={t} dark={dark} focus={t === active} controls />
          ))}
        </div>
      )}
    </div>
  );
}
