// The session host's side of the screen worker: every session's headless xterm lives on
// that thread. Output is batched per session (one message per turn of the event loop),
// parsed counts come back for flow control, and snapshots are answered in stream order.
import { Worker } from 'node:worker_threads';
import { builtFile } from '../engine/resources';
import type { FromScreens, ToScreens } from './screen-protocol';
import type { NotificationSource } from './screen-signals';

export interface ScreenSnapshot {
  screen: string;
  /** The whole scrollback at the same moment, when `screen` holds only `quickLines` of it. */
  history: Promise<string> | null;
}

/** The screen's last lines as the user sees them. */
export interface ScreenLines {
  /** The last non-empty lines, oldest first. */
  lines: string[];
  /** The text on the cursor's row before the cursor (a prompt's question, when one waits). */
  beforeCursor: string;
}

/** What the worker noticed on a session's screen. */
export interface ScreenEvents {
  progress?(id: string, lastLines: string[]): void;
  notification?(id: string, source: NotificationSource, text: string, lastLines: string[]): void;
}

interface OpenScreen {
  cols: number;
  rows: number;
  scrollback: number;
  /** Output not yet posted to the worker. */
  pending: string;
  /** Characters written and not yet parsed by the worker (flow control). */
  unparsed: number;
  /** Recent output, replayed into a fresh screen if the worker has to be restarted. */
  replay: () => string;
}

export class Screens {
  private worker: Worker | null = null;
  private readonly open = new Map<string, OpenScreen>();
  private readonly waiting = new Map<number, { screen: (s: ScreenSnapshot) => void; history?: (h: string) => void }>();
  private readonly lineRequests = new Map<number, (l: ScreenLines) => void>();
  private nextReq = 1;
  private flushQueued = false;

  constructor(
    /** The worker caught up on some of `id`'s output (flow control looks again). */
    private readonly onParsed: (id: string) => void,
    private readonly log: (line: string) => void = () => {},
    private readonly events: ScreenEvents = {},
  ) {}

  openScreen(id: string, size: { cols: number; rows: number; scrollback: number }, replay: () => string) {
    this.open.set(id, { ...size, pending: '', unparsed: 0, replay });
    this.post({ op: 'open', id, ...size });
  }

  write(id: string, data: string) {
    const s = this.open.get(id);
    if (!s) return;
    s.pending += data;
    s.unparsed += data.length;
    if (this.flushQueued) return;
    this.flushQueued = true;
    // After this turn's I/O callbacks: the PTY chunks read together travel together.
    setImmediate(() => this.flush());
  }

  /** Output written to `id` that its screen has not parsed yet. */
  unparsed(id: string): number {
    return this.open.get(id)?.unparsed ?? 0;
  }

  resize(id: string, cols: number, rows: number) {
    const s = this.open.get(id);
    if (!s) return;
    this.flushOne(id, s);
    s.cols = cols;
    s.rows = rows;
    this.post({ op: 'resize', id, cols, rows });
  }

  /** The screen as of now: everything written before this call, nothing after. */
  snapshot(id: string, quickLines?: number): Promise<ScreenSnapshot> {
    const s = this.open.get(id);
    if (s) this.flushOne(id, s);
    const req = this.nextReq++;
    return new Promise((resolve) => {
      this.waiting.set(req, { screen: resolve });
      this.post({ op: 'snapshot', id, req, quickLines });
    });
  }

  /** The last `n` non-empty lines of the screen, with everything written before this call on it. */
  lines(id: string, n: number): Promise<ScreenLines> {
    const s = this.open.get(id);
    if (!s) return Promise.resolve({ lines: [], beforeCursor: '' });
    this.flushOne(id, s);
    const req = this.nextReq++;
    return new Promise((resolve) => {
      this.lineRequests.set(req, resolve);
      this.post({ op: 'lines', id, req, n });
    });
  }

  close(id: string) {
    const s = this.open.get(id);
    if (!s) return;
    this.flushOne(id, s);
    this.open.delete(id);
    this.post({ op: 'close', id });
  }

  /** Stops the worker (the host is done with every session). */
  async dispose() {
    const w = this.worker;
    this.worker = null;
    this.open.clear();
    if (w) await w.terminate();
  }

  private flush() {
    this.flushQueued = false;
    for (const [id, s] of this.open) this.flushOne(id, s);
  }

  private flushOne(id: string, s: OpenScreen) {
    if (!s.pending) return;
    const data = s.pending;
    s.pending = '';
    this.post({ op: 'write', id, data });
  }

  private post(m: ToScreens) {
    this.start().postMessage(m);
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(builtFile('screen-worker.cjs'));
    // The worker never keeps the process alive; sessions do.
    w.unref();
    w.on('message', (m: FromScreens) => this.receive(m));
    w.on('error', (err) => this.log(`screen worker failed: ${err.stack ?? err}`));
    w.on('exit', (code) => {
      if (this.worker !== w) return; // disposed
      this.worker = null;
      this.log(`screen worker exited (${code}); restarting it with each session's recent output`);
      this.restart();
    });
    this.worker = w;
    return w;
  }

  /** A new worker: each screen comes back from its recent output; pending snapshots get answered. */
  private restart() {
    for (const [id, s] of this.open) {
      const recent = s.replay();
      this.post({ op: 'open', id, cols: s.cols, rows: s.rows, scrollback: s.scrollback });
      this.post({ op: 'write', id, data: recent, replay: true });
      s.pending = '';
      s.unparsed = recent.length;
      this.onParsed(id);
    }
    for (const [req, w] of this.waiting) {
      this.waiting.delete(req);
      w.screen({ screen: '', history: null });
      w.history?.('');
    }
    for (const [req, resolve] of this.lineRequests) {
      this.lineRequests.delete(req);
      resolve({ lines: [], beforeCursor: '' });
    }
  }

  private receive(m: FromScreens) {
    if (m.op === 'parsed') {
      for (const [id, chars] of Object.entries(m.chars)) {
        const s = this.open.get(id);
        if (!s) continue;
        s.unparsed = Math.max(0, s.unparsed - chars);
        this.onParsed(id);
      }
      return;
    }
    if (m.op === 'progress') {
      if (this.open.has(m.id)) this.events.progress?.(m.id, m.lastLines);
      return;
    }
    if (m.op === 'notification') {
      if (this.open.has(m.id)) this.events.notification?.(m.id, m.source, m.text, m.lastLines);
      return;
    }
    if (m.op === 'lines') {
      const resolve = this.lineRequests.get(m.req);
      this.lineRequests.delete(m.req);
      resolve?.({ lines: m.lines, beforeCursor: m.beforeCursor });
      return;
    }
    const w = this.waiting.get(m.req);
    if (!w) return;
    if (m.op === 'screen') {
      if (!m.split) {
        this.waiting.delete(m.req);
        return w.screen({ screen: m.screen, history: null });
      }
      const history = new Promise<string>((resolve) => (w.history = resolve));
      return w.screen({ screen: m.screen, history });
    }
    this.waiting.delete(m.req);
    w.history?.(m.screen);
  }
}
