// A session's screen keeps its recent lines as cells and older scrollback as text (screen.ts):
// a viewer attaching must still see every line, in order, once, as a terminal fed the same
// output directly would show them.
import { Terminal } from '@xterm/headless';
import { describe, expect, it } from 'vitest';
import { LIVE_LINES, Screen } from '../src/main/sessions/screen';

const size = { cols: 80, rows: 24, scrollback: 10_000 };
const output = (from: number, to: number) => {
  let s = '';
  for (let i = from; i <= to; i++) s += `\x1b[3${i % 8}m${String(i).padStart(5)}\x1b[0m build step ${i}: \x1b[1mok\x1b[0m ${'.'.repeat(i % 90)}\r\n`;
  return s;
};

/** Every line of a terminal fed `data`, as text. */
async function linesOf(data: string, scrollback = size.scrollback): Promise<string[]> {
  const t = new Terminal({ ...size, scrollback, allowProposedApi: true });
  await new Promise<void>((r) => t.write(data, r));
  const out: string[] = [];
  for (let y = 0; y < t.buffer.active.length; y++) out.push(t.buffer.active.getLine(y)!.translateToString(true));
  t.dispose();
  return out;
}

function screenFed(chunks: string[]) {
  const progress: string[][] = [];
  const screen = new Screen({ ...size }, { progress: (l) => progress.push(l), notification: () => {}, parsed: () => {} });
  for (const c of chunks) screen.write(c, false);
  const snapshot = (quickLines?: number) =>
    new Promise<{ screen: string; history: string | null }>((r) =>
      screen.afterParsed(() => {
        const s = screen.snapshot(quickLines);
        r({ screen: s.screen, history: s.history ? s.history() : null });
      }),
    );
  return { screen, snapshot, progress };
}

describe('a screen with long scrollback', () => {
  it('shows every line once and in order after its oldest lines moved to text', async () => {
    const raw = output(1, 3 * LIVE_LINES) + 'agent> ';
    const chunks = raw.match(/[\s\S]{1,4000}/g)!;
    const { screen, snapshot } = screenFed(chunks);
    const whole = await snapshot();
    expect(whole.history).toBeNull();
    expect(await linesOf(whole.screen)).toEqual(await linesOf(raw));

    // The quick view holds at most the lines asked for; the history holds them all.
    const quick = await snapshot(100);
    expect((await linesOf(quick.screen)).length).toBeLessThanOrEqual(100 + size.rows);
    expect(await linesOf(quick.history!)).toEqual(await linesOf(raw));
    // Later output still lands after what was moved.
    screen.write('\r\nmore output\r\nagent> ', false);
    expect((await linesOf((await snapshot()).screen)).filter((l) => l).slice(-2)).toEqual(['more output', 'agent> ']);
    screen.dispose();
  });

  it('never moves old lines while an escape sequence spans writes, however many', async () => {
    // `\x1b[3` + `1` + `mRED`: the middle write has no ESC, yet the sequence is still open; a
    // move then would reset the parser and show "mRED" instead of a red "RED".
    const head = output(1, 2 * LIVE_LINES) + '\x1b[3';
    const { screen, snapshot } = screenFed([head, '1']);
    await snapshot();
    await new Promise((r) => setTimeout(r, 1300)); // past the once-a-second move
    screen.write('mRED\x1b[0m\r\nagent> ', false);
    const whole = await snapshot();
    expect((await linesOf(whole.screen)).filter((l) => l).slice(-2)).toEqual(['RED', 'agent> ']);
    screen.dispose();
  });

  it('keeps to the scrollback limit, dropping the oldest lines first', async () => {
    const raw = output(1, 12_000);
    const { screen, snapshot } = screenFed(raw.match(/[\s\S]{1,8000}/g)!);
    const lines = await linesOf((await snapshot()).screen, 20_000);
    const reference = await linesOf(raw); // a terminal with the same limit, fed directly
    expect(lines.length).toBeLessThanOrEqual(reference.length);
    expect(lines.length).toBeGreaterThan(reference.length - 100);
    expect(lines).toEqual(reference.slice(reference.length - lines.length));
    screen.dispose();
  });
});
