// Repaints of a flooding terminal, paced. xterm repaints on every animation frame that
// follows a parse; with the DOM renderer (no GPU) a repaint of a scrolling screen costs
// 10–15 ms of the page's main thread, so a flood spends most of the page repainting text
// nobody can read, and parses (and acks, and echoes other terminals' keys) at a third of its
// rate. While output floods, the terminal repaints at most every FLOOD_FRAME_MS; typing and
// ordinary output repaint on the next frame as before. Terminals that draw on the GPU are
// left alone: their repaints are cheap.
import type { Terminal } from '@xterm/xterm';

/** Output at least this fast (bytes per FLOOD_WINDOW_MS) is a flood. */
export const FLOOD_BYTES = 64 * 1024;
const FLOOD_WINDOW_MS = 100;
/** A flood repaints at most this often: 10 frames a second still shows it moving. */
export const FLOOD_FRAME_MS = 100;

/** The part of xterm's render service this reaches (not public API; checked at mount, and by test/ui-terminals). */
interface RenderDebouncer {
  refresh(start: number | undefined, end: number | undefined, rowCount: number): void;
}

export interface RenderPacer {
  /** Call with each chunk of output as it is written. */
  noteOutput(bytes: number): void;
  /** True once the pacer holds xterm's repaints (false: this xterm's internals moved; nothing is paced). */
  readonly active: boolean;
  /** Repaints deferred so far (for tests and the bench). */
  readonly deferred: number;
  dispose(): void;
}

/** `overseer.flood-pacing` = 'off' in localStorage repaints every frame (the bench compares both). */
export function floodPacingOn(): boolean {
  try {
    return localStorage.getItem('overseer.flood-pacing') !== 'off';
  } catch {
    return true;
  }
}

function renderDebouncer(term: Terminal): RenderDebouncer | null {
  const d = (term as unknown as { _core?: { _renderService?: { _renderDebouncer?: RenderDebouncer } } })._core?._renderService?._renderDebouncer;
  return d && typeof d.refresh === 'function' ? d : null;
}

export function paceRenders(term: Terminal, now: () => number = () => performance.now()): RenderPacer {
  const debouncer = renderDebouncer(term);
  let windowStart = 0;
  let windowBytes = 0;
  let flooding = false;
  let lastOutputAt = 0;
  let lastPaint = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let rows: { start: number; end: number; count: number } | null = null;
  let deferred = 0;
  if (!debouncer) {
    console.warn('[overseer] xterm render service not found: flooding terminals repaint every frame');
    return { noteOutput() {}, active: false, deferred: 0, dispose() {} };
  }
  const original = debouncer.refresh;
  const paint = (start: number | undefined, end: number | undefined, count: number) => {
    lastPaint = now();
    original.call(debouncer, start, end, count);
  };
  const flush = () => {
    timer = null;
    const r = rows;
    rows = null;
    if (r) paint(r.start, r.end, r.count);
  };
  debouncer.refresh = (start, end, count) => {
    // Quiet for a window: the flood is over, and scrolling back through it repaints at once.
    if (flooding && now() - lastOutputAt >= FLOOD_WINDOW_MS) flooding = false;
    if (!flooding && !timer) return paint(start, end, count);
    // Gather the rows asked for until the next paced frame.
    const s = start ?? 0;
    const e = end ?? count - 1;
    rows = rows ? { start: Math.min(rows.start, s), end: Math.max(rows.end, e), count } : { start: s, end: e, count };
    deferred++;
    timer ??= setTimeout(flush, Math.max(0, lastPaint + FLOOD_FRAME_MS - now()));
  };
  return {
    noteOutput(bytes) {
      const t = now();
      if (t - windowStart >= FLOOD_WINDOW_MS) {
        // The window that ended decides, unless output then paused for a whole window.
        flooding = windowBytes >= FLOOD_BYTES && t - windowStart < 2 * FLOOD_WINDOW_MS;
        windowStart = t;
        windowBytes = 0;
      }
      lastOutputAt = t;
      windowBytes += bytes;
      if (windowBytes >= FLOOD_BYTES) flooding = true;
    },
    active: true,
    get deferred() {
      return deferred;
    },
    dispose() {
      if (timer) clearTimeout(timer);
      timer = null;
      debouncer.refresh = original;
    },
  };
}
