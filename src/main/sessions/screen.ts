// One session's screen in the screen worker: a headless xterm holding the recent lines, and
// the older scrollback as serialized text. xterm keeps 1.4 kB of cells for every 120-column
// line it holds (about 2.6 kB with its objects), so 20 sessions with 5,000 lines each held
// 260 MB as cells; as text they take a tenth of that. Past LIVE_LINES of scrollback the oldest
// lines move to text, leaving KEEP_LINES in the terminal; a snapshot joins both.
import { SerializeAddon } from '@xterm/addon-serialize';
import { Terminal } from '@xterm/headless';
import { ScreenWatch, type ScreenWatchEvents, type WatchState } from './screen-watch';

/** Scrollback lines the terminal holds before the oldest move to text. */
export const LIVE_LINES = 1000;
/** Scrollback lines left in the terminal after a move (what the screen watch and quick views read). */
export const KEEP_LINES = 200;
/** At most one move of old lines per this long (see moveSoon). */
const MOVE_EVERY_MS = 1000;
/** Lines of scrollback per piece of text: the scrollback limit drops whole pieces. */
const HISTORY_PIECE = 100;
/** Output joined into one write while an earlier one is parsed, at most. */
const MAX_WRITE = 512 * 1024;

export interface ScreenEvents extends ScreenWatchEvents {
  /** Characters of output parsed (flow control). */
  parsed(chars: number): void;
}

/** The last escape sequence in `data` is complete (CSI, OSC/DCS/APC with its terminator, or a short ESC). */
export function endsOutsideSequence(data: string): boolean {
  const esc = data.lastIndexOf('\x1b');
  if (esc < 0) return true;
  return /^\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[ -/]*[0-OQ-WYZ\\`-~])/.test(data.slice(esc));
}

type Job = { data: string; replay: boolean } | { then: () => void };

export class Screen {
  private term!: Terminal;
  private serializer!: SerializeAddon;
  private watch!: ScreenWatch;
  /** Scrollback moved out of the terminal, oldest first, as serialized text (UTF-8). */
  private history: { text: Buffer; lines: number }[] = [];
  private historyLines = 0;
  /** Output and reads in order: a read runs once everything written before it is parsed. */
  private queue: Job[] = [];
  private writing = false;
  private disposed = false;
  /** The last write ended outside any escape sequence. */
  private cleanEnd = true;
  /** The escape sequence the last write left unfinished, if any. */
  private openSequence = '';
  private movedAt = 0;
  private moveTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly size: { cols: number; rows: number; scrollback: number },
    private readonly events: ScreenEvents,
  ) {
    this.open();
  }

  write(data: string, replay: boolean) {
    this.queue.push({ data, replay });
    this.pump();
  }

  /** Runs `fn` once everything written so far is parsed, before anything written later. */
  afterParsed(fn: () => void) {
    this.queue.push({ then: fn });
    this.pump();
  }

  resize(cols: number, rows: number) {
    this.afterParsed(() => {
      this.term.resize(cols, rows);
      this.size.cols = cols;
      this.size.rows = rows;
    });
  }

  /** Call after parsing. With `quickLines` and more scrollback than that: a short screen now, the whole of it from `history`. */
  snapshot(quickLines?: number): { screen: string; history: (() => string) | null } {
    const liveScrollback = this.term.buffer.normal.length - this.term.rows;
    const whole = () => {
      // Together within the scrollback limit, as the terminal alone would keep it.
      let over = this.historyLines + liveScrollback - this.size.scrollback;
      const pieces = this.history.filter((h) => (over > 0 ? ((over -= h.lines), false) : true));
      return pieces.map((h) => h.text.toString('utf8')).join('') + this.serializer.serialize({ scrollback: this.size.scrollback });
    };
    if (quickLines !== undefined && this.historyLines + liveScrollback > quickLines) {
      return { screen: this.serializer.serialize({ scrollback: Math.min(quickLines, liveScrollback) }), history: whole };
    }
    return { screen: whole(), history: null };
  }

  /** Call after parsing: the last `n` non-empty lines and the text before the cursor. */
  lines(n: number) {
    return { lines: this.watch.lines(n), beforeCursor: this.watch.beforeCursor() };
  }

  dispose() {
    this.disposed = true;
    this.queue = [];
    if (this.moveTimer) clearTimeout(this.moveTimer);
    this.watch.dispose();
    this.term.dispose();
  }

  /** A terminal of this size; with `tail`, the previous terminal's recent lines and state, replayed. */
  private open(tail?: { text: string; seen: WatchState }) {
    const { cols, rows, scrollback } = this.size;
    this.term = new Terminal({ cols, rows, scrollback, allowProposedApi: true });
    this.serializer = new SerializeAddon();
    this.term.loadAddon(this.serializer);
    this.watch = new ScreenWatch(this.term, this.events);
    if (!tail) return;
    const watch = this.watch;
    watch.muted = true; // the same screen, moved: nothing in it is news
    this.writing = true;
    this.term.write(tail.text, () => {
      watch.continueFrom(tail.seen);
      this.writing = false;
      this.pump();
    });
  }

  private pump() {
    while (!this.writing && !this.disposed && this.queue.length > 0) {
      const job = this.queue[0];
      if ('then' in job) {
        this.queue.shift();
        job.then();
        continue;
      }
      // What arrived while the last write was parsed goes in one write.
      let data = '';
      while (this.queue.length > 0 && data.length < MAX_WRITE) {
        const next = this.queue[0];
        if (!('data' in next) || next.replay !== job.replay) break;
        data += next.data;
        this.queue.shift();
      }
      const { replay } = job;
      const watch = this.watch;
      if (replay) watch.muted = true;
      this.writing = true;
      this.term.write(data, () => {
        this.writing = false;
        this.events.parsed(data.length);
        if (replay) watch.settle();
        else watch.written();
        this.noteSequenceState(data);
        this.moveSoon();
        this.pump();
      });
    }
  }

  /**
   * A sequence may span any number of writes (`\x1b]0;ti` + `tle` + `\x07`): the unfinished one
   * is carried to the next write, so a write without ESC does not count as a clean end.
   */
  private noteSequenceState(data: string) {
    const joined = this.openSequence + data;
    this.cleanEnd = endsOutsideSequence(joined);
    if (this.cleanEnd) {
      this.openSequence = '';
      return;
    }
    const open = joined.slice(joined.lastIndexOf('\x1b'));
    // Its introducer and its latest bytes decide when it ends; a long OSC body need not be kept.
    this.openSequence = open.length > 4096 ? open.slice(0, 2) + open.slice(-1024) : open;
  }

  private liveScrollback() {
    return this.term.buffer.normal.length - this.term.rows;
  }

  /**
   * Moves old lines when caught up, at most once per MOVE_EVERY_MS: in a flood, moving every
   * line to text would cost as much as parsing it (the terminal trims at the scrollback limit
   * meanwhile, as it always did); a timer catches the quiet after a burst. A new terminal starts
   * its parser afresh, so never in the middle of an escape sequence.
   */
  private moveSoon() {
    if (this.disposed || this.liveScrollback() <= LIVE_LINES) return;
    const now = Date.now();
    if (!this.writing && this.queue.length === 0 && this.cleanEnd && now - this.movedAt >= MOVE_EVERY_MS) return this.moveOldLines();
    if (this.moveTimer) return;
    this.moveTimer = setTimeout(() => {
      this.moveTimer = null;
      this.moveSoon();
    }, Math.max(10, this.movedAt + MOVE_EVERY_MS - now));
    this.moveTimer.unref?.();
  }

  /** Past LIVE_LINES of scrollback: the oldest lines to text, the terminal rebuilt from its last KEEP_LINES. */
  private moveOldLines() {
    if (this.disposed || this.term.buffer.active.type !== 'normal') return;
    const liveScrollback = this.liveScrollback();
    if (liveScrollback <= LIVE_LINES) return;
    this.movedAt = Date.now();
    const cut = liveScrollback - KEEP_LINES;
    // In pieces, so the scrollback limit drops the oldest lines a few at a time.
    for (let start = 0; start < cut; start += HISTORY_PIECE) {
      const end = Math.min(cut, start + HISTORY_PIECE) - 1;
      const text = this.serializer.serialize({ range: { start, end }, excludeModes: true, excludeAltBuffer: true }) + '\r\n';
      this.history.push({ text: Buffer.from(text, 'utf8'), lines: end - start + 1 });
      this.historyLines += end - start + 1;
    }
    const tail = this.serializer.serialize({ scrollback: KEEP_LINES });
    while (this.history.length > 0 && this.historyLines + KEEP_LINES > this.size.scrollback) this.historyLines -= this.history.shift()!.lines;
    const seen = this.watch.handOver();
    this.term.dispose();
    this.open({ text: tail, seen });
  }
}
