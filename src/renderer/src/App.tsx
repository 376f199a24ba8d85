// The control room's frame: navigation, connection state, the current view, the bead
// detail panel, the command palette and notices.
import { useEffect, useSyncExternalStore } from 'react';
import { useTown } from './state/town-store';
import { dismiss, goTo, openBead, undoLast, useUi, VIEWS } from './state/ui-store';
import { problemsOf } from './state/selectors';
import { Overview } from './views/Overview';
import { Board } from './views/Board';
import { Planner } from './views/Planner';
import { Agents } from './views/Agents';
import { MergeQueue } from './views/MergeQueue';
import { Terminals } from './views/Terminals';
import { Rigs } from './views/Rigs';
import { Settings } from './views/Settings';
import { BeadDetail } from './views/BeadDetail';
import { CommandPalette } from './components/CommandPalette';
import { ImportDrop } from './components/ImportDrop';
import { ActionScope, DisconnectedBanner } from './components/Connection';
import { useAttentionNotifications, useNotifyPermission, useTitleBadge } from './state/alerts';
import { DispatchPausedBanner, EStopButton, FrozenBanner } from './components/EStop';

const darkQuery = window.matchMedia('(prefers-color-scheme: dark)');
function useSystemDark(): boolean {
  return useSyncExternalStore(
    (l) => {
      darkQuery.addEventListener('change', l);
      return () => darkQuery.removeEventListener('change', l);
    },
    () => darkQuery.matches,
  );
}

export function useDark(): boolean {
  const theme = useUi((s) => s.theme);
  const system = useSystemDark();
  return theme === 'dark' || (theme === 'system' && system);
}

const isTyping = (t: EventTarget | null) =>
  t instanceof HTMLElement && (t.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(t.tagName) || !!t.closest('.xterm'));

export function App() {
  const view = useUi((s) => s.view);
  const bead = useUi((s) => s.bead);
  const notices = useUi((s) => s.notices);
  const connection = useTown((s) => s.connection);
  const synced = useTown((s) => s.synced);
  const problemCount = useTown((s) => problemsOf(s.entities, s.status).length);
  const townName = useTown((s) => s.status?.town.split('/').filter(Boolean).pop() ?? 'town');
  const dark = useDark();
  const notifications = useNotifyPermission();
  useTitleBadge();
  useAttentionNotifications();

  useEffect(() => {
    document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  }, [dark]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const mod = e.ctrlKey || e.metaKey;
      if (mod && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        useUi.setState((s) => ({ paletteOpen: !s.paletteOpen }));
        return;
      }
      if (isTyping(e.target)) return;
      if (mod && e.key.toLowerCase() === 'z' && !e.shiftKey) {
        e.preventDefault();
        const { connection, stale } = useTown.getState();
        if (connection === 'open' && !stale) void undoLast();
        return;
      }
      if (mod || e.altKey) return;
      if (e.key === '/') {
        const search = document.querySelector<HTMLInputElement>('input[type="search"]');
        if (search) {
          e.preventDefault();
          search.focus();
        }
        return;
      }
      const v = VIEWS.find((x) => x.key === e.key);
      if (v) {
        e.preventDefault();
        goTo(v.id);
      } else if (e.key === 'Escape' && useUi.getState().bead) {
        openBead(null);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div className="app">
      <DisconnectedBanner />
      <nav className="sidebar" aria-label="Views">
        <div className="brand">
          <span className="logo" aria-hidden>◆</span> Overseer
          <div className="town-name" title={useTown.getState().status?.town}>{townName}</div>
        </div>
        {VIEWS.map((v) => (
          <button key={v.id} className={`nav ${view === v.id ? 'active' : ''}`} onClick={() => goTo(v.id)} aria-current={view === v.id ? 'page' : undefined}>
            <span>{v.title}</span>
            {v.id === 'overview' && problemCount > 0 && <span className="badge bad">{problemCount}</span>}
            <kbd>{v.key}</kbd>
          </button>
        ))}
        <div className="sidebar-foot">
          <ActionScope>
            <EStopButton />
          </ActionScope>
          <button className="ghost" onClick={() => useUi.setState({ paletteOpen: true })}>
            Commands <kbd>Ctrl K</kbd>
          </button>
          {notifications.supported && (
            <button
              className="ghost notify-toggle"
              disabled={notifications.permission !== 'default'}
              onClick={notifications.ask}
              title="A notification when an agent waits for you or an urgent escalation arrives"
            >
              {notifications.permission === 'granted' ? 'Notifications on' : notifications.permission === 'denied' ? 'Notifications blocked' : 'Notify me'}
            </button>
          )}
          <div className={`conn conn-${connection}`} role="status">
            {connection === 'open' ? (synced ? 'connected' : 'syncing…') : connection === 'reconnecting' ? 'reconnecting…' : connection}
          </div>
        </div>
      </nav>
      <main className="main">
        <ActionScope>
          <FrozenBanner />
          <DispatchPausedBanner />
        </ActionScope>
        {!synced ? (
          <div className="loading">Connecting to the town…</div>
        ) : view === 'terminals' ? (
          // Tabs stay usable offline; each terminal shows itself detached, attaching is off.
          <Terminals />
        ) : (
          <ActionScope>
            {view === 'overview' ? <Overview /> : view === 'board' ? <Board /> : view === 'planner' ? <Planner /> : view === 'queue' ? <MergeQueue /> : view === 'agents' ? <Agents /> : view === 'rigs' ? <Rigs /> : <Settings />}
          </ActionScope>
        )}
      </main>
      {bead && synced && <BeadDetail id={bead} />}
      <CommandPalette />
      {synced && <ImportDrop />}
      <div className="notices" aria-live="polite">
        {notices.map((n) => (
          <div key={n.id} className={`notice ${n.kind}`} role={n.kind === 'error' ? 'alert' : 'status'}>
            <span>{n.text}</span>
            {n.undo && (
              <button
                className="link"
                onClick={() => {
                  dismiss(n.id);
                  void n.undo!();
                }}
              >
                Undo
              </button>
            )}
            <button className="ghost small" aria-label="Dismiss" onClick={() => dismiss(n.id)}>
              ×
            </button>
          </div>
        ))}
      </div>
    </div>
  );
}
