// Runs in the screen worker beside each session's headless xterm: it hears the terminal
// notifications the program emits and notices screen progress. The xterm parser does the
// reading (a BEL that ends an OSC is part of the OSC, never a bell); nothing here parses
// the byte stream by hand.
import type { Terminal } from '@xterm/headless';
import { KittyNotifications, lastNonEmptyLines, osc777Text, osc9Text, screenFingerprint, type NotificationSource } from './screen-signals';

/** At most one progress report a second per session: enough for stall detection, cheap in a flood. */
export const PROGRESS_INTERVAL_MS = 1000;
/** The same notification repeated within this is one notification (a program ringing in a loop). */
const NOTIFICATION_REPEAT_MS = 1000;
/** Lines of evidence sent with each signal. */
const EVIDENCE_LINES = 5;

export interface ScreenWatchEvents {
  progress(lastLines: string[]): void;
  notification(source: NotificationSource, text: string, lastLines: string[]): void;
}

export interface WatchState {
  fingerprint: string;
  lastCheck: number;
  lastNotified: Map<string, number>;
  lookPending: boolean;
}

export class ScreenWatch {
  /** While output seen before is replayed: its bells are old news. */
  muted = false;
  private fingerprint = '';
  private lastCheck = 0;
  private timer: NodeJS.Timeout | null = null;
  private disposed = false;
  private readonly kitty = new KittyNotifications();
  private readonly lastNotified = new Map<string, number>();

  constructor(
    private readonly term: Terminal,
    private readonly events: ScreenWatchEvents,
  ) {
    term.onBell(() => this.notify('bel', ''));
    const osc = (ident: number, source: NotificationSource, text: (data: string) => string | null) =>
      term.parser.registerOscHandler(ident, (data) => {
        const t = text(data);
        if (t !== null) this.notify(source, t);
        return true;
      });
    osc(9, 'osc9', osc9Text);
    osc(99, 'osc99', (d) => this.kitty.receive(d));
    osc(777, 'osc777', osc777Text);
  }

  /** Output was parsed: look at the screen again, at most once per interval. */
  written() {
    // A write parsed after the screen closed still calls back: the terminal is gone.
    if (this.timer || this.disposed) return;
    const wait = Math.max(0, this.lastCheck + PROGRESS_INTERVAL_MS - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      this.lastCheck = Date.now();
      const fingerprint = screenFingerprint(this.visibleRows().map((r) => r.text));
      if (fingerprint === this.fingerprint) return;
      this.fingerprint = fingerprint;
      this.events.progress(this.lines(EVIDENCE_LINES));
    }, wait);
  }

  /** Replayed output is parsed: the screen it left is the baseline, not progress. */
  settle() {
    this.muted = false;
    if (this.disposed) return;
    this.fingerprint = screenFingerprint(this.visibleRows().map((r) => r.text));
  }

  /** The last `n` non-empty lines as the user sees them, looking into the scrollback if the screen has fewer. */
  lines(n: number): string[] {
    const buf = this.term.buffer.active;
    const bottom = buf.baseY + this.term.rows;
    // Enough rows for n lines even when some are wrapped or empty; bounded, so it stays cheap.
    const top = Math.max(0, bottom - Math.max(this.term.rows, n * 4) - 1);
    return lastNonEmptyLines(this.rows(top, bottom), n);
  }

  /** The text on the cursor's row before the cursor: a prompt's question when a program awaits an answer. */
  beforeCursor(): string {
    const buf = this.term.buffer.active;
    return buf.getLine(buf.baseY + buf.cursorY)?.translateToString(true, 0, buf.cursorX) ?? '';
  }

  /** Stops watching this terminal and returns what was seen, for the one that replaces it (screen.ts). */
  handOver(): WatchState {
    const state = { fingerprint: this.fingerprint, lastCheck: this.lastCheck, lastNotified: new Map(this.lastNotified), lookPending: this.timer !== null };
    this.dispose();
    return state;
  }

  /** Goes on from the watch of the terminal this one replaces: what it saw stays seen, a pending look still happens. */
  continueFrom(state: WatchState) {
    this.muted = false;
    this.fingerprint = state.fingerprint;
    this.lastCheck = state.lastCheck;
    for (const [k, v] of state.lastNotified) this.lastNotified.set(k, v);
    if (state.lookPending) this.written();
  }

  dispose() {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private visibleRows() {
    const base = this.term.buffer.active.baseY;
    return this.rows(base, base + this.term.rows);
  }

  private rows(from: number, to: number): { text: string; wrapped: boolean }[] {
    const buf = this.term.buffer.active;
    const rows: { text: string; wrapped: boolean }[] = [];
    for (let y = from; y < to; y++) {
      const line = buf.getLine(y);
      if (line) rows.push({ text: line.translateToString(true), wrapped: line.isWrapped });
    }
    return rows;
  }

  private notify(source: NotificationSource, text: string) {
    if (this.muted || this.disposed) return;
    const key = `${source}\0${text}`;
    const now = Date.now();
    if (now - (this.lastNotified.get(key) ?? -Infinity) < NOTIFICATION_REPEAT_MS) return;
    if (this.lastNotified.size > 64) this.lastNotified.clear();
    this.lastNotified.set(key, now);
    this.events.notification(source, text, this.lines(EVIDENCE_LINES));
  }
}
