// Settings: every town setting (`town config`), grouped, edited in place. A value is written
// as on the command line (`15m`, `0,2m,5m`); Enter or leaving the field saves it, Escape
// puts it back. The engine checks it: a refusal stays next to the setting and nothing changes.
import { useEffect, useRef, useState } from 'react';
import type { ConfigSettingView, TownConfigView } from '../../../shared/domain';
import { Empty, Pill } from '../components/bits';
import { getBackend } from '../state/town-store';
import { groupOf, SETTING_GROUPS, useTownConfig } from '../state/town-config';
import { errorText, notify, useUi } from '../state/ui-store';

export function Settings() {
  const [config, setConfig] = useTownConfig();
  const [filter, setFilter] = useState('');
  if (!config) return <div className="loading">Reading the town’s settings…</div>;

  const q = filter.trim().toLowerCase();
  const shown = config.settings.filter((s) => !q || `${s.key} ${s.about} ${s.aliases.join(' ')}`.toLowerCase().includes(q));
  const known = new Set<string>(SETTING_GROUPS.map((g) => g.prefix));
  const groups = [
    ...SETTING_GROUPS.map((g) => ({ ...g, settings: shown.filter((s) => groupOf(s.key) === g.prefix) })),
    { prefix: 'other', title: 'Other', about: '', settings: shown.filter((s) => !known.has(groupOf(s.key))) },
  ].filter((g) => g.settings.length > 0);
  const changed = config.settings.filter((s) => s.display !== s.default_display).length;

  return (
    <div className="view settings">
      <header className="view-head">
        <h1>Settings</h1>
        <span className="muted">
          {changed === 0 ? 'all at their defaults' : `${changed} changed from the default`} · changes apply at once, no restart
        </span>
        {config.dispatch_paused && <Pill tone="warn">dispatch paused</Pill>}
        <input type="search" className="right" placeholder="Filter settings  /" aria-label="Filter settings" value={filter} onChange={(e) => setFilter(e.target.value)} />
      </header>
      <p className="muted small hint">
        Durations are written <code>90s</code>, <code>15m</code>, <code>2h</code>; lists <code>0,2m,5m</code>. The same values as{' '}
        <code>town config</code>.
      </p>
      {groups.length === 0 && <Empty>No setting matches “{filter}”.</Empty>}
      {groups.map((g) => (
        <section key={g.prefix} className="panel" aria-labelledby={`settings-${g.prefix}`}>
          <h2 id={`settings-${g.prefix}`}>{g.title}</h2>
          {g.about && <p className="muted small hint">{g.about}</p>}
          <ul className="settings-list">
            {g.settings.map((s) => (
              <SettingRow key={s.key} setting={s} onSaved={setConfig} />
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

/** An engine refusal reads "health.nudge_after: expected …"; beside the setting, the key goes. */
const withoutKey = (text: string, key: string) => text.replace(new RegExp(`^${key.replace(/\./g, '\\.')}(?: \\([^)]*\\))?: `), '');

function SettingRow({ setting: s, onSaved }: { setting: ConfigSettingView; onSaved: (c: TownConfigView) => void }) {
  // What the overseer is typing; null shows the town's value (which may change under us).
  const [draft, setDraft] = useState<string | null>(null);
  const [error, setError] = useState<{ text: string; tried: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement & HTMLSelectElement>(null);
  const focus = useUi((u) => u.focusSetting);
  const id = `setting-${s.key}`;
  const isDefault = s.display === s.default_display;

  useEffect(() => {
    if (focus !== s.key) return;
    // After the closing palette has handed focus back (its dialog does so on a zero timeout).
    const t = setTimeout(() => {
      input.current?.scrollIntoView({ block: 'center' });
      input.current?.focus();
      useUi.setState({ focusSetting: null });
    }, 0);
    return () => clearTimeout(t);
  }, [focus, s.key]);

  const save = async (text: string) => {
    if (busy) return;
    setBusy(true);
    const api = getBackend();
    try {
      const c = await api.call('town.config', { set: { [s.key]: text.trim() } });
      onSaved(c);
      setDraft(null);
      setError(null);
      const change = c.changed[0];
      if (change && change.was !== change.now) {
        notify(`${change.key} = ${change.now} (was ${change.was})`, {
          undo: () => api.call('town.config', { set: { [s.key]: change.was } }),
        });
      }
    } catch (err) {
      setError({ text: withoutKey(errorText(err), s.key), tried: text });
    } finally {
      setBusy(false);
    }
  };

  const value = draft ?? s.display;
  // Leaving the field saves an edit, but not the same refused value a second time.
  const saveIfEdited = () => {
    if (draft !== null && draft.trim() !== s.display && draft !== error?.tried) void save(draft);
    else if (draft !== null && draft.trim() === s.display) (setDraft(null), setError(null));
  };
  const describedBy = `${id}-about${error ? ` ${id}-error` : ''}`;

  return (
    <li className={`setting ${isDefault ? '' : 'changed'} ${error ? 'invalid' : ''}`} data-setting={s.key}>
      <div className="setting-name">
        <label htmlFor={id}>
          <code>{s.key}</code>
        </label>
        {!isDefault && <span className="changed-mark" title="changed from the default">changed</span>}
        <p id={`${id}-about`} className="setting-about">
          {s.about}
          {s.aliases.length > 0 && <span className="muted"> · also {s.aliases.join(', ')}</span>}
        </p>
      </div>
      <div className="setting-input">
        {s.kind === 'choice' ? (
          <select id={id} ref={input} value={s.display} disabled={busy} aria-describedby={describedBy} onChange={(e) => void save(e.target.value)}>
            {(s.choices ?? []).map((c) => (
              <option key={c} value={c}>
                {c}
              </option>
            ))}
          </select>
        ) : (
          <input
            id={id}
            ref={input}
            value={value}
            spellCheck={false}
            autoComplete="off"
            inputMode={s.kind === 'count' ? 'numeric' : 'text'}
            placeholder={s.default_display}
            aria-invalid={error ? true : undefined}
            aria-describedby={describedBy}
            onChange={(e) => setDraft(e.target.value)}
            onBlur={saveIfEdited}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                if (draft !== null && draft.trim() !== s.display) void save(draft);
              } else if (e.key === 'Escape') {
                e.preventDefault();
                setDraft(null);
                setError(null);
              }
            }}
          />
        )}
        {error && (
          <div id={`${id}-error`} className="field-error" role="alert">
            {error.text} <span className="muted">(still {s.display}; Esc puts it back)</span>
          </div>
        )}
      </div>
      <div className="setting-default">
        <span className="muted small">default {s.default_display}</span>
        <button
          className="ghost small"
          disabled={busy || (isDefault && draft === null)}
          aria-label={`Reset ${s.key} to its default, ${s.default_display}`}
          // Pressing it must not first blur (and so save) an edit in the field.
          onMouseDown={(e) => e.preventDefault()}
          onClick={() => void save(s.default_display)}
        >
          Reset
        </button>
      </div>
    </li>
  );
}
