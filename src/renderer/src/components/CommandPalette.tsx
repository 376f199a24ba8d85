// The command palette (Ctrl/Cmd K): go to a view, create a bead, sling, attach, stop and hold, restart, start a
// convoy, open a bead, switch theme. Shortcuts are listed next to their commands.
import { useRef, useState } from 'react';
import { Command } from 'cmdk';
import { getBackend, useTown } from '../state/town-store';
import { useOnline } from './Connection';
import { canRestart, canStop, restartAgent, stopAndHold } from './AgentControls';
import { isWorkBead } from '../state/selectors';
import { attempt, goTo, openBead, openSetting, openTerminal, setTheme, useUi, VIEWS } from '../state/ui-store';
import { useTownConfig } from '../state/town-config';

type Page = { id: 'root' } | { id: 'create' } | { id: 'sling' } | { id: 'sling-to'; bead: string } | { id: 'attach' } | { id: 'stop' } | { id: 'restart' } | { id: 'start' } | { id: 'open' } | { id: 'setting' };

export function CommandPalette() {
  const open = useUi((s) => s.paletteOpen);
  const entities = useTown((s) => s.entities);
  const [page, setPage] = useState<Page>({ id: 'root' });
  const [search, setSearch] = useState('');
  const input = useRef<HTMLInputElement>(null);
  const api = getBackendSafe();
  // Offline, commands that change the town are shown but cannot be chosen.
  const offline = !useOnline();

  const close = () => {
    useUi.setState({ paletteOpen: false });
    setPage({ id: 'root' });
    setSearch('');
  };
  const go = (p: Page) => {
    setPage(p);
    setSearch('');
    // A click on an item focuses the list; typing goes on in the search field.
    input.current?.focus();
  };
  const run = (fn: () => void | Promise<unknown>) => {
    close();
    void fn();
  };

  const rigs = entities.rig.list();
  const openBeads = entities.bead.list().filter((b) => isWorkBead(b) && b.status === 'open');
  const agents = entities.agent.list().filter((a) => a.session);
  const staged = entities.convoy.list().filter((c) => c.status === 'staged');

  return (
    <Command.Dialog
      open={open}
      onOpenChange={(o) => (o ? useUi.setState({ paletteOpen: true }) : close())}
      label="Command palette"
      className="palette"
      overlayClassName="palette-overlay"
      onKeyDown={(e) => {
        if (e.key === 'Backspace' && !search && page.id !== 'root') {
          e.preventDefault();
          go({ id: 'root' });
        }
      }}
    >
      <Command.Input
        ref={input}
        value={search}
        onValueChange={setSearch}
        placeholder={
          page.id === 'create' ? 'Title of the new bead, then Enter' : page.id === 'root' ? 'Type a command or search…' : 'Search…'
        }
      />
      <Command.List>
        <Command.Empty>No match.</Command.Empty>
        {page.id === 'root' && (
          <>
            <Command.Group heading="Actions">
              <Command.Item disabled={offline} onSelect={() => go({ id: 'create' })}>Create bead…</Command.Item>
              <Command.Item disabled={offline} onSelect={() => go({ id: 'sling' })}>Sling a bead…</Command.Item>
              <Command.Item disabled={offline} onSelect={() => go({ id: 'attach' })}>Attach to an agent…</Command.Item>
              <Command.Item disabled={offline} onSelect={() => go({ id: 'stop' })}>Stop and hold an agent…</Command.Item>
              <Command.Item disabled={offline} onSelect={() => go({ id: 'restart' })}>Restart an agent…</Command.Item>
              <Command.Item disabled={offline} onSelect={() => go({ id: 'start' })}>Start a convoy…</Command.Item>
              <Command.Item onSelect={() => go({ id: 'open' })}>Open a bead…</Command.Item>
              <Command.Item onSelect={() => go({ id: 'setting' })}>Change a setting…</Command.Item>
            </Command.Group>
            <Command.Group heading="Go to">
              {VIEWS.map((v) => (
                <Command.Item key={v.id} value={`go ${v.title}`} onSelect={() => run(() => goTo(v.id))}>
                  {v.title}
                  <kbd>{v.key}</kbd>
                </Command.Item>
              ))}
            </Command.Group>
            <Command.Group heading="Theme">
              <Command.Item onSelect={() => run(() => setTheme('system'))}>Theme: follow the system</Command.Item>
              <Command.Item onSelect={() => run(() => setTheme('light'))}>Theme: light</Command.Item>
              <Command.Item onSelect={() => run(() => setTheme('dark'))}>Theme: dark</Command.Item>
            </Command.Group>
            <Command.Group heading="Shortcuts">
              <Command.Item disabled value="shortcut palette">Command palette <kbd>Ctrl K</kbd></Command.Item>
              <Command.Item disabled value="shortcut undo">Undo the last change <kbd>Ctrl Z</kbd></Command.Item>
              <Command.Item disabled value="shortcut close">Close the bead panel <kbd>Esc</kbd></Command.Item>
              <Command.Item disabled value="shortcut search">Search the board <kbd>/</kbd></Command.Item>
              <Command.Item disabled value="shortcut views">Go to a view <kbd>1–8</kbd></Command.Item>
              <Command.Item disabled value="shortcut find">Search a terminal <kbd>Ctrl Shift F</kbd></Command.Item>
            </Command.Group>
          </>
        )}
        {page.id === 'create' &&
          (search.trim() ? (
            [...rigs.map((r) => r.id), ''].map((rig) => (
              <Command.Item
                key={rig || 'none'}
                disabled={offline}
                value={`${search} ${rig}`}
                onSelect={() =>
                  run(() =>
                    attempt(() => api!.call('bead.create', { title: search, ...(rig ? { rig } : {}) }), `Created “${search}”${rig ? ` in ${rig}` : ''}`),
                  )
                }
              >
                Create “{search}” {rig ? `in ${rig}` : 'without a rig'}
              </Command.Item>
            ))
          ) : (
            <Command.Item disabled value="type a title">Type the title</Command.Item>
          ))}
        {page.id === 'sling' &&
          openBeads.map((b) => (
            <Command.Item key={b.id} value={`${b.id} ${b.title}`} onSelect={() => go({ id: 'sling-to', bead: b.id })}>
              <code>{b.id}</code> {b.title}
            </Command.Item>
          ))}
        {page.id === 'sling-to' && (
          <>
            {rigs.map((r) => (
              <Command.Item key={r.id} disabled={offline} value={`rig ${r.name}`} onSelect={() => run(() => attempt(() => api!.call('sling', { bead: page.bead, target: r.id }), `Slung ${page.bead} to ${r.name}`))}>
                Rig {r.name}
              </Command.Item>
            ))}
            {entities.agent.list()
              .filter((a) => a.role === 'polecat')
              .map((a) => (
                <Command.Item key={a.id} disabled={offline} value={`agent ${a.id}`} onSelect={() => run(() => attempt(() => api!.call('sling', { bead: page.bead, target: a.id }), `Slung ${page.bead} to ${a.name}`))}>
                  Agent {a.name} ({a.status})
                </Command.Item>
              ))}
          </>
        )}
        {page.id === 'attach' &&
          agents.map((a) => (
            <Command.Item key={a.id} value={`${a.name} ${a.id}`} onSelect={() => run(() => openTerminal(a.id))}>
              {a.name} <span className="muted">{a.status} · {a.hook ?? a.id}</span>
            </Command.Item>
          ))}
        {page.id === 'stop' &&
          entities.agent.list().filter(canStop).map((a) => (
            <Command.Item key={a.id} disabled={offline} value={`stop ${a.name} ${a.id}`} onSelect={() => run(() => stopAndHold(a))}>
              Stop {a.name}{a.hook ? ` and hold ${a.hook}` : ''} <span className="muted">{a.status}</span>
            </Command.Item>
          ))}
        {page.id === 'restart' &&
          entities.agent.list().filter(canRestart).map((a) => (
            <Command.Item key={a.id} disabled={offline} value={`restart ${a.name} ${a.id}`} onSelect={() => run(() => restartAgent(a))}>
              Restart {a.name} on {a.hook} <span className="muted">{a.status}</span>
            </Command.Item>
          ))}
        {page.id === 'start' &&
          staged.map((c) => (
            <Command.Item key={c.id} disabled={offline} value={`${c.title} ${c.id}`} onSelect={() => run(() => attempt(() => api!.call('convoy.start', { convoy: c.id }), `Convoy “${c.title}” started`))}>
              {c.title} <span className="muted">{c.total} beads</span>
            </Command.Item>
          ))}
        {page.id === 'open' &&
          entities.bead.list()
            .filter(isWorkBead)
            .slice(0, 2000)
            .map((b) => (
              <Command.Item key={b.id} value={`${b.id} ${b.title}`} onSelect={() => run(() => openBead(b.id))}>
                <code>{b.id}</code> {b.title}
              </Command.Item>
            ))}
        {page.id === 'setting' && <SettingItems onPick={(key) => run(() => openSetting(key))} />}
      </Command.List>
    </Command.Dialog>
  );
}

/** Every setting with its value; picking one opens it in the Settings view. */
function SettingItems({ onPick }: { onPick: (key: string) => void }) {
  const [config] = useTownConfig();
  if (!config) return <Command.Loading>Reading the settings…</Command.Loading>;
  return (
    <>
      {config.settings.map((s) => (
        <Command.Item key={s.key} value={`${s.key} ${s.aliases.join(' ')} ${s.about}`} onSelect={() => onPick(s.key)}>
          <code>{s.key}</code> {s.display} <span className="muted">{s.about}</span>
        </Command.Item>
      ))}
    </>
  );
}

function getBackendSafe() {
  try {
    return getBackend();
  } catch {
    return null;
  }
}
