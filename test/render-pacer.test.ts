// The flood pacer over a stand-in for xterm's render debouncer: a flood repaints at most once
// per FLOOD_FRAME_MS with every row it was asked for, its last frame is never lost, and
// ordinary output repaints at once. (test/ui-terminals checks it holds the real xterm.)
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Terminal } from '@xterm/xterm';
import { FLOOD_BYTES, FLOOD_FRAME_MS, paceRenders } from '../src/renderer/src/components/render-pacer';

function fakeTerminal() {
  const painted: [number | undefined, number | undefined][] = [];
  const debouncer = { refresh: (start?: number, end?: number, _rowCount?: number) => void painted.push([start, end]) };
  const term = { _core: { _renderService: { _renderDebouncer: debouncer } } } as unknown as Terminal;
  return { term, painted, debouncer };
}

describe('flood pacing', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('repaints ordinary output at once', () => {
    const { term, painted, debouncer } = fakeTerminal();
    const pacer = paceRenders(term, () => Date.now());
    expect(pacer.active).toBe(true);
    pacer.noteOutput(200);
    debouncer.refresh(3, 3, 40);
    expect(painted).toEqual([[3, 3]]);
    expect(pacer.deferred).toBe(0);
  });

  it('paces a flood to one repaint per frame interval, with every row asked for, and paints its last frame', () => {
    const { term, painted, debouncer } = fakeTerminal();
    const pacer = paceRenders(term, () => Date.now());
    // 30 chunks of 16 KB, 5 ms apart: 480 KB in 150 ms, a flood.
    for (let i = 0; i < 30; i++) {
      pacer.noteOutput(16 * 1024);
      debouncer.refresh(i % 40, i % 40, 40);
      vi.advanceTimersByTime(5);
    }
    // The first three chunks (48 KB) are not yet a flood and repaint at once; then one
    // repaint per interval, of every row asked for since the last one.
    expect(painted).toEqual([[0, 0], [1, 1], [2, 2], [3, 21]]);
    expect(pacer.deferred).toBe(27);
    // The flood stops: what was gathered is painted within one interval.
    vi.advanceTimersByTime(FLOOD_FRAME_MS);
    expect(painted).toEqual([[0, 0], [1, 1], [2, 2], [3, 21], [22, 29]]);
  });

  it('returns to immediate repaints once output slows', () => {
    const { term, painted, debouncer } = fakeTerminal();
    const pacer = paceRenders(term, () => Date.now());
    pacer.noteOutput(FLOOD_BYTES);
    debouncer.refresh(0, 39, 40);
    vi.advanceTimersByTime(3 * FLOOD_FRAME_MS);
    const before = painted.length;
    pacer.noteOutput(10); // a keystroke's echo, long after the flood
    debouncer.refresh(39, 39, 40);
    expect(painted.length).toBe(before + 1);
  });

  it('repaints at once when the output stops after a flood (scrolling back through it)', () => {
    const { term, painted, debouncer } = fakeTerminal();
    const pacer = paceRenders(term, () => Date.now());
    pacer.noteOutput(FLOOD_BYTES);
    debouncer.refresh(0, 39, 40);
    vi.advanceTimersByTime(3 * FLOOD_FRAME_MS); // silence; the gathered rows were painted
    const before = painted.length;
    debouncer.refresh(0, 39, 40); // a scroll, with no new output
    expect(painted.length).toBe(before + 1);
  });

  it('gives back xterm its own repaints when disposed', () => {
    const { term, debouncer } = fakeTerminal();
    const own = debouncer.refresh;
    paceRenders(term, () => Date.now()).dispose();
    expect(debouncer.refresh).toBe(own);
  });
});
