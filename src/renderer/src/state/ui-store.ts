// UI-only state: where the overseer is, open terminals, notices with undo, theme.
import { create } from 'zustand';
import { ApiError } from '../../../shared/errors';

export const VIEWS = [
  { id: 'overview', title: 'Overview', key: '1' },
  { id: 'board', title: 'Board', key: '2' },
  { id: 'planner', title: 'Convoys', key: '3' },
  { id: 'queue', title: 'Merge queue', key: '4' },
  { id: 'agents', title: 'Agents', key: '5' },
  { id: 'terminals', title: 'Terminals', key: '6' },
  { id: 'rigs', title: 'Rigs', key: '7' },
  { id: 'settings', title: 'Settings', key: '8' },
] as const;
export type ViewId = (typeof VIEWS)[number]['id'];

export type Theme = 'system' | 'light' | 'dark';

export interface Notice {
  id: number;
  kind: 'info' | 'error';
  text: string;
  undo?: () => Promise<unknown>;
}

export interface UiState {
  view: ViewId;
  /** The bead open in the detail panel. */
  bead: string | null;
  /** Agents whose terminals are open, in tab order. */
  terminals: string[];
  activeTerminal: string | null;
  terminalLayout: 'tabs' | 'split';
  notices: Notice[];
  paletteOpen: boolean;
  theme: Theme;
  /** A setting the Settings view should bring into view and focus (from the palette). */
  focusSetting: string | null;
}

const storedTheme = (): Theme => {
  try {
    const t = localStorage.getItem('overseer.theme');
    return t === 'light' || t === 'dark' ? t : 'system';
  } catch {
    return 'system';
  }
};

// Open terminal tabs outlive a reload and an engine restart. localStorage is per origin,
// and each town is served on a port of its own, so each town keeps its own tabs.
const TERMINALS_KEY = 'overseer.terminals';
type TerminalTabs = Pick<UiState, 'terminals' | 'activeTerminal' | 'terminalLayout'>;

function storedTerminals(): TerminalTabs {
  const none: TerminalTabs = { terminals: [], activeTerminal: null, terminalLayout: 'tabs' };
  try {
    const v = JSON.parse(localStorage.getItem(TERMINALS_KEY) ?? 'null') as Partial<TerminalTabs> | null;
    if (!v || !Array.isArray(v.terminals)) return none;
    const terminals = [...new Set(v.terminals.filter((t): t is string => typeof t === 'string' && t.length > 0 && t.length <= 200))].slice(0, 32);
    const active = typeof v.activeTerminal === 'string' && terminals.includes(v.activeTerminal) ? v.activeTerminal : (terminals[0] ?? null);
    return { terminals, activeTerminal: active, terminalLayout: v.terminalLayout === 'split' ? 'split' : 'tabs' };
  } catch {
    return none; // unreadable or not ours: start with none open
  }
}

function storeTerminals(s: TerminalTabs) {
  try {
    localStorage.setItem(TERMINALS_KEY, JSON.stringify({ terminals: s.terminals, activeTerminal: s.activeTerminal, terminalLayout: s.terminalLayout }));
  } catch {
    // private mode: the tabs last for this page only
  }
}

function fromHash(): Pick<UiState, 'view' | 'bead'> {
  const [, view, bead] = (location.hash.replace(/^#\/?/, '/') || '/').split('/');
  const known = VIEWS.some((v) => v.id === view);
  return { view: known ? (view as ViewId) : 'overview', bead: bead || null };
}

export const useUi = create<UiState>(() => ({
  ...fromHash(),
  ...storedTerminals(),
  notices: [],
  paletteOpen: false,
  theme: storedTheme(),
  focusSetting: null,
}));

useUi.subscribe((s, prev) => {
  if (s.terminals !== prev.terminals || s.activeTerminal !== prev.activeTerminal || s.terminalLayout !== prev.terminalLayout) storeTerminals(s);
});

function writeHash() {
  const { view, bead } = useUi.getState();
  const hash = `#/${view}${bead ? `/${bead}` : ''}`;
  if (location.hash !== hash) history.replaceState(null, '', hash);
}

export function goTo(view: ViewId) {
  useUi.setState({ view });
  writeHash();
}

export function openSetting(key: string) {
  useUi.setState({ view: 'settings', focusSetting: key });
  writeHash();
}

export function openBead(bead: string | null) {
  useUi.setState({ bead });
  writeHash();
}

export function openTerminal(agent: string) {
  useUi.setState((s) => ({
    terminals: s.terminals.includes(agent) ? s.terminals : [...s.terminals, agent],
    activeTerminal: agent,
    view: 'terminals',
  }));
  writeHash();
}

export function closeTerminal(agent: string) {
  useUi.setState((s) => {
    const terminals = s.terminals.filter((a) => a !== agent);
    return { terminals, activeTerminal: s.activeTerminal === agent ? (terminals[terminals.length - 1] ?? null) : s.activeTerminal };
  });
}

export function setTheme(theme: Theme) {
  try {
    localStorage.setItem('overseer.theme', theme);
  } catch {
    // private mode: the choice lasts for this page only
  }
  useUi.setState({ theme });
}

let noticeId = 1;
export function notify(text: string, o: { kind?: Notice['kind']; undo?: () => Promise<unknown>; ms?: number } = {}) {
  const id = noticeId++;
  useUi.setState((s) => ({ notices: [...s.notices.slice(-3), { id, kind: o.kind ?? 'info', text, undo: o.undo }] }));
  setTimeout(() => dismiss(id), o.ms ?? (o.undo ? 8000 : 5000));
}

export function dismiss(id: number) {
  useUi.setState((s) => ({ notices: s.notices.filter((n) => n.id !== id) }));
}

/** The newest notice that can be undone (Ctrl+Z). */
export async function undoLast() {
  const n = [...useUi.getState().notices].reverse().find((x) => x.undo);
  if (!n) return;
  dismiss(n.id);
  await attempt(n.undo!, 'Undone');
}

export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message;
  return (err as Error)?.message ?? String(err);
}

/** Runs a command; failures become an error notice (the engine's message names the problem). */
export async function attempt<T>(fn: () => Promise<T>, done?: string, undo?: () => Promise<unknown>): Promise<T | undefined> {
  try {
    const r = await fn();
    if (done) notify(done, { undo });
    return r;
  } catch (err) {
    notify(errorText(err), { kind: 'error', ms: 8000 });
    return undefined;
  }
}

window.addEventListener('hashchange', () => useUi.setState(fromHash()));
