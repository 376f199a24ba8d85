// One attached agent terminal: xterm.js with fit, search and web links, WebGL while
// visible (DOM renderer after a lost context). Attaching shows the current screen and
// scrollback, then live output; the viewer acks what xterm has parsed (flow control).
// When the connection drops it says it is detached, keeps the last screen, and attaches
// again by itself once the engine is back (to the agent's new session, if it has one).
import { useEffect, useRef, useState } from 'react';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { WebglAddon } from '@xterm/addon-webgl';
import '@xterm/xterm/css/xterm.css';
import { CONNECTION_LOST, type TerminalChannel } from '../../../shared/backend';
import { reconnectDelay } from '../../../shared/web-backend';
import { getBackend, useTown } from '../state/town-store';
import { floodPacingOn, paceRenders, type RenderPacer } from './render-pacer';
import { useOnline } from './Connection';
import { AgentControls } from './AgentControls';

export type TerminalState = 'attaching' | 'live' | 'ended' | 'error' | 'detached';

const DARK = { background: '#0f1115', foreground: '#d7dae0', cursor: '#d7dae0', selectionBackground: '#3a4a6b' };
const LIGHT = { background: '#fbfbfc', foreground: '#1f2328', cursor: '#1f2328', selectionBackground: '#b6d2ff' };

// Instruments for tests and `npm run bench`: what each open terminal shows, how much it
// has parsed, how long its attach took, and how fast a keystroke echoes.
interface Probe {
  term: Terminal;
  pacer?: () => RenderPacer | null;
  parsed: number;
  renders: number;
  attachMs: number | null;
  historyMs: number | null;
  channel: TerminalChannel | null;
  waiters: { text: string; resolve: () => void }[];
  recent: string;
}
const registry = new Map<string, Probe>();
(window as unknown as { __overseerTerminals: unknown }).__overseerTerminals = {
  text(agent: string): string {
    const t = registry.get(agent)?.term;
    if (!t) return '';
    const b = t.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < b.length; i++) lines.push(b.getLine(i)?.translateToString(true) ?? '');
    return lines.join('\n');
  },
  agents: () => [...registry.keys()],
  /** For `npm run bench`: writes `chunk` `times` times straight into the agent's xterm; resolves with MB/s parsed. */
  writeLocal(agent: string, chunk: string, times: number): Promise<number> {
    const t = registry.get(agent)?.term;
    if (!t) return Promise.reject(new Error(`no terminal for ${agent}`));
    const start = performance.now();
    // Two chunks queued at a time: xterm drops writes beyond 50 MB pending.
    let written = 0;
    let parsed = 0;
    return new Promise((resolve) => {
      const more = () => {
        while (written < times && written - parsed < 2) {
          written++;
          t.write(chunk, () => {
            if (++parsed === times) resolve((chunk.length * times) / 1048576 / ((performance.now() - start) / 1000));
            else more();
          });
        }
      };
      more();
    });
  },
  /** The lines the viewport shows, and whether it follows the output (is at the bottom). */
  viewport(agent: string) {
    const t = registry.get(agent)?.term;
    if (!t) return null;
    const b = t.buffer.active;
    const lines: string[] = [];
    for (let y = b.viewportY; y < b.viewportY + t.rows; y++) lines.push(b.getLine(y)?.translateToString(true) ?? '');
    return { lines, atBottom: b.viewportY === b.baseY };
  },
  parsed: (agent: string) => registry.get(agent)?.parsed ?? 0,
  renders: (agent: string) => registry.get(agent)?.renders ?? 0,
  /** Repaints the flood pacer deferred (null: this terminal is not paced, e.g. WebGL draws). */
  pacedRepaints: (agent: string) => {
    const pacer = registry.get(agent)?.pacer?.();
    return pacer?.active ? pacer.deferred : null;
  },
  attachMs: (agent: string) => registry.get(agent)?.attachMs ?? null,
  /** ms from mount until the whole scrollback took over (null: not yet, or it came with the screen). */
  historyMs: (agent: string) => registry.get(agent)?.historyMs ?? null,
  /** Types `text` into the agent and resolves with the ms until xterm has parsed its echo. */
  echo(agent: string, text: string): Promise<number> {
    const p = registry.get(agent);
    if (!p?.channel) return Promise.reject(new Error(`no terminal for ${agent}`));
    p.recent = '';
    const start = performance.now();
    return new Promise((resolve) => {
      p.waiters.push({ text, resolve: () => resolve(performance.now() - start) });
      p.channel!.input(text);
    });
  },
};

const utf8 = new TextDecoder();
function noteParsed(p: Probe, data: Uint8Array) {
  p.parsed += data.length;
  if (p.waiters.length === 0) return;
  p.recent = (p.recent + utf8.decode(data)).slice(-4096);
  p.waiters = p.waiters.filter((w) => {
    if (!p.recent.includes(w.text)) return true;
    w.resolve();
    return false;
  });
}

/** One xterm with its addons, in its own layer of the terminal host. */
interface Xterm {
  term: Terminal;
  fit: FitAddon;
  search: SearchAddon;
  layer: HTMLDivElement;
  /** Paces repaints while output floods (DOM renderer only). */
  pacer(): RenderPacer | null;
  dispose(): void;
}

function mountXterm(parent: HTMLElement, dark: boolean, hidden: boolean): Xterm {
  const layer = document.createElement('div');
  layer.className = 'terminal-layer';
  if (hidden) layer.style.visibility = 'hidden';
  parent.appendChild(layer);
  const term = new Terminal({
    fontFamily: 'ui-monospace, "JetBrains Mono", "SFMono-Regular", Menlo, Consolas, monospace',
    fontSize: 13,
    scrollback: 10_000,
    allowProposedApi: true,
    theme: dark ? DARK : LIGHT,
    convertEol: false,
  });
  const fit = new FitAddon();
  const search = new SearchAddon();
  term.loadAddon(fit);
  term.loadAddon(search);
  term.loadAddon(new WebLinksAddon((_e, uri) => window.open(uri, '_blank', 'noopener')));
  term.open(layer);
  let webgl: WebglAddon | null = null;
  let pacer: RenderPacer | null = null;
  if (useWebgl()) {
    try {
      webgl = new WebglAddon();
      webgl.onContextLoss(() => {
        // The GPU took the context back: fall back to the DOM renderer for good.
        webgl?.dispose();
        webgl = null;
        if (floodPacingOn()) pacer ??= paceRenders(term);
      });
      term.loadAddon(webgl);
    } catch {
      webgl = null; // no WebGL here: the DOM renderer draws
    }
  }
  if (!webgl && floodPacingOn()) pacer = paceRenders(term);
  return {
    term,
    fit,
    search,
    layer,
    pacer: () => pacer,
    dispose() {
      pacer?.dispose();
      webgl?.dispose();
      term.dispose();
      layer.remove();
    },
  };
}

/**
 * `sizesAgent`: this viewer fits the agent's PTY to itself (the Terminals view, like
 * tmux's "latest client" rule, also on focus). A preview (bead detail) shows the agent
 * at whatever size it has and never reflows it.
 */
/**
 * WebGL only when the GPU does it: a software rasterizer (SwiftShader, llvmpipe) draws
 * slower than the DOM renderer and starves xterm's parser. `overseer.renderer` in
 * localStorage ('webgl' | 'dom') overrides the guess.
 */
let webglVerdict: boolean | null = null;
function useWebgl(): boolean {
  try {
    const forced = localStorage.getItem('overseer.renderer');
    if (forced === 'webgl' || forced === 'dom') return forced === 'webgl';
  } catch {
    // no storage: guess
  }
  if (webglVerdict !== null) return webglVerdict;
  try {
    const gl = document.createElement('canvas').getContext('webgl2');
    const info = gl?.getExtension('WEBGL_debug_renderer_info');
    const renderer = info ? String(gl!.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
    webglVerdict = !!gl && !/swiftshader|llvmpipe|software|basic render/i.test(renderer);
    gl?.getExtension('WEBGL_lose_context')?.loseContext();
  } catch {
    webglVerdict = false;
  }
  return webglVerdict;
}

export function TerminalView({ agent, dark, focus, sizesAgent = true, controls = false }: { agent: string; dark: boolean; focus?: boolean; sizesAgent?: boolean; controls?: boolean }) {
  const host = useRef<HTMLDivElement>(null);
  const termRef = useRef<Terminal | null>(null);
  const searchRef = useRef<SearchAddon | null>(null);
  const darkRef = useRef(dark);
  darkRef.current = dark;
  const [state, setState] = useState<TerminalState>('attaching');
  const [note, setNote] = useState('');
  const [searching, setSearching] = useState(false);
  const [query, setQuery] = useState('');
  /** Bumped to attach again; how many times in a row it has, and for which session. */
  const [attachKey, setAttachKey] = useState(0);
  const reattempts = useRef(0);
  const triedSession = useRef<string | null>(null);
  const online = useOnline();
  const session = useTown((s) => s.entities.agent.get(agent)?.session ?? null);
  const agentView = useTown((s) => s.entities.agent.get(agent));
  const sessionRef = useRef(session);
  sessionRef.current = session;

  useEffect(() => {
    triedSession.current = sessionRef.current;
    setState('attaching');
    setNote('');
    const el = host.current!;
    let view = mountXterm(el, darkRef.current, false);
    /** The same terminal with its whole scrollback, parsing out of sight until it takes over. */
    let next: Xterm | null = null;
    const probe: Probe = { term: view.term, parsed: 0, renders: 0, attachMs: null, historyMs: null, channel: null, waiters: [], recent: '' };
    registry.set(agent, probe);
    const attachStart = performance.now();

    let channel: TerminalChannel | null = null;
    let disposed = false;
    let failed = false;
    let fitted = false;
    const proposed = () => {
      try {
        return view.fit.proposeDimensions();
      } catch {
        return undefined;
      }
    };
    const fitToView = () => {
      if (!sizesAgent) return;
      const d = proposed();
      if (!d || !channel || !Number.isFinite(d.cols) || d.cols < 2 || d.rows < 2) return;
      if (d.cols !== view.term.cols || d.rows !== view.term.rows) channel.resize(d.cols, d.rows);
    };
    const wire = (x: Xterm) => {
      termRef.current = x.term;
      searchRef.current = x.search;
      probe.term = x.term;
      probe.pacer = x.pacer;
      x.term.onRender(() => probe.renders++);
      x.term.onData((d) => channel?.input(d));
      x.term.textarea?.addEventListener('focus', fitToView);
    };
    wire(view);
    /** Output goes to the terminal that will stay: the one parsing the history, if any. */
    const current = () => next ?? view;

    const size = proposed();
    channel = getBackend().openTerminal(agent, { cols: size?.cols ?? 120, rows: size?.rows ?? 32 }, {
      onScreen: (s) => {
        if (disposed) return;
        view.term.reset();
        view.term.resize(s.cols, s.rows);
        view.term.write(s.data, () => {
          probe.attachMs = performance.now() - attachStart;
          reattempts.current = 0;
          setState('live');
          if (!fitted) {
            fitted = true;
            fitToView();
          }
        });
      },
      onHistory: (data) => {
        if (disposed) return;
        next?.dispose();
        const n = mountXterm(el, darkRef.current, true);
        next = n;
        n.term.resize(view.term.cols, view.term.rows);
        n.term.write(data, () => {
          if (disposed || next !== n) return;
          // Same screen, more lines above: swap in place, keeping focus.
          const old = view;
          const focused = old.term.textarea !== undefined && document.activeElement === old.term.textarea;
          view = n;
          next = null;
          n.layer.style.visibility = '';
          old.dispose();
          wire(n);
          if (focused) n.term.focus();
          probe.historyMs = performance.now() - attachStart;
        });
      },
      onOutput: (data) => {
        if (disposed) return;
        // Ack after xterm parsed it: the engine pauses the PTY while too much is unacked.
        const x = current();
        x.pacer()?.noteOutput(data.length);
        x.term.write(data, () => {
          channel?.ack(data.length);
          noteParsed(probe, data);
        });
      },
      onResize: (cols, rows) => {
        if (disposed) return;
        view.term.resize(cols, rows);
        next?.term.resize(cols, rows);
      },
      onEnd: (reason) => {
        if (disposed || failed) return;
        if (reason === CONNECTION_LOST) {
          setState('detached');
          setNote('Detached: the town engine is unreachable. It attaches again by itself.');
          return;
        }
        setState('ended');
        setNote(reason === 'exited' ? 'The session ended.' : `Detached: ${reason}.`);
      },
      onError: (e) => {
        if (disposed) return;
        failed = true; // the engine closes the channel next: the reason to show is this one
        setState('error');
        setNote(e.message);
      },
    });
    probe.channel = channel;

    let resizeTimer: number | undefined;
    const observer = new ResizeObserver(() => {
      window.clearTimeout(resizeTimer);
      resizeTimer = window.setTimeout(fitToView, 80);
    });
    observer.observe(el);

    return () => {
      disposed = true;
      observer.disconnect();
      window.clearTimeout(resizeTimer);
      channel?.close();
      if (registry.get(agent) === probe) registry.delete(agent);
      next?.dispose();
      view.dispose();
      termRef.current = null;
    };
  }, [agent, attachKey]);

  // Attach again: once the connection is back (with a growing pause if it keeps dropping),
  // or when an agent that had no session to attach to gets one.
  useEffect(() => {
    if (!online) return;
    const again = state === 'detached' || (state === 'error' && session !== null && session !== triedSession.current);
    if (!again) return;
    const t = window.setTimeout(() => setAttachKey((k) => k + 1), state === 'detached' ? reconnectDelay(++reattempts.current) : 0);
    return () => window.clearTimeout(t);
  }, [online, state, session]);

  useEffect(() => {
    if (termRef.current) termRef.current.options.theme = dark ? DARK : LIGHT;
  }, [dark]);

  useEffect(() => {
    if (focus) termRef.current?.focus();
  }, [focus, state]);

  const onKeyDown = (e: React.KeyboardEvent) => {
    if ((e.ctrlKey || e.metaKey) && e.shiftKey && e.key.toLowerCase() === 'f') {
      e.preventDefault();
      setSearching(true);
    }
  };
  const find = (forward: boolean) => {
    if (!query) return;
    const opts = { decorations: { matchOverviewRuler: '#d29922', activeMatchColorOverviewRuler: '#f0883e' } };
    if (forward) searchRef.current?.findNext(query, opts);
    else searchRef.current?.findPrevious(query, opts);
  };

  return (
    <div className="term-view" data-agent={agent} data-state={state} onKeyDown={onKeyDown}>
      <div className="terminal-bar">
        <span className={`dot state-${state}`} aria-hidden />
        <span className="terminal-title">{agent}</span>
        <span className="terminal-note">{state === 'attaching' ? 'attaching…' : note}</span>
        <button className="ghost small" title="Search (Ctrl+Shift+F)" onClick={() => setSearching((s) => !s)}>
          Find
        </button>
        {controls && agentView && <AgentControls agent={agentView} small />}
      </div>
      {searching && (
        <div className="terminal-search">
          <input
            autoFocus
            placeholder="Search the scrollback"
            value={query}
            onChange={(e) => setQuery(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter') find(!e.shiftKey);
              if (e.key === 'Escape') {
                setSearching(false);
                searchRef.current?.clearDecorations();
                termRef.current?.focus();
              }
            }}
          />
          <button className="ghost small" onClick={() => find(false)}>↑</button>
          <button className="ghost small" onClick={() => find(true)}>↓</button>
        </div>
      )}
      <div className="terminal-host" ref={host} />
    </div>
  );
}
