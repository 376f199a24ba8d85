// Terminals under load in real Chromium: two browser contexts watch one flooding agent
// and see the same output to the last line, while the board in a third tab stays usable.
import { describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { browserForFile, openTown, screenshot, terminalText } from './helpers/browser';
import { makeRepo } from './helpers/repo';
import { ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const browser = browserForFile();

const open = (served: ServedTown, context?: BrowserContext) => openTown(browser(), served.url, { context, viewport: { width: 1400, height: 900 } });

/** A town with one rig whose agent works on a bead of `scenario`; resolves once its session runs. */
async function townWithAgent(name: string, bead: { title: string; scenario: string }, env: Record<string, string>) {
  const dir = tempDir(name);
  const repo = makeRepo(tempDir('repo'));
  expect((await town(dir, ['init', dir])).code).toBe(0);
  expect((await town(dir, ['rig', 'add', 'app', repo, '--prefix', 'ap'])).code).toBe(0);
  const created = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', bead.title, '--scenario', bead.scenario);
  const served = new ServedTown(dir, env);
  await served.start();
  expect((await town(dir, ['sling', created.id])).code).toBe(0);
  const agent = await waitFor(`the agent on ${created.id} to start`, async () => {
    const agents = await townJson<Array<{ id: string; hook: string | null; session: string | null }>>(dir, 'agents');
    return agents.find((a) => a.hook === created.id && a.session)?.id;
  });
  return { dir, served, bead: created as { id: string }, agent };
}

async function attach(page: Page, agent: string) {
  await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Agents/ }).click();
  await page.locator(`tr[data-agent="${agent}"]`).getByRole('button', { name: 'Attach' }).click();
  await page.locator(`.term-view[data-agent="${agent}"][data-state="live"]`).waitFor();
}

/** The numbered chunk headers the flood prints, in screen order. */
const chunkNumbers = (text: string) => [...text.matchAll(/^(\d{6}) \[flood\]/gm)].map((m) => Number(m[1]));

describe('terminals in the browser', () => {
  it('two viewers see the same flood to its last line, none lost, while the board stays interactive', async () => {
    // A slow start (the scripted agent's progress steps) leaves time to attach before the flood.
    const { dir, served, bead: flood, agent } = await townWithAgent('flood-ui', { title: 'Flood the terminal', scenario: 'flood' }, { TOWN_SCRIPTED_PACE_MS: '1500' });
    try {
      const other = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'A quiet bead to click');
      const first = await open(served);
      const second = await open(served); // its own browser context
      await attach(first, agent);
      await attach(second, agent);
      const board = await open(served, first.context()); // a second tab of the first context

      // The flood starts after the agent's progress steps; the board tab shows its detail
      // (with the streaming terminal) and another card opens while it streams.
      await expect.poll(() => terminalText(first, agent), { timeout: 60_000 }).toMatch(/\[flood\]/);
      await board.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Board/ }).click();
      await board.locator(`.card[data-bead="${flood.id}"]`).click();
      await board.locator(`aside[data-bead="${flood.id}"] .term-view`).waitFor();
      await board.locator(`.card[data-bead="${other.id}"]`).click();
      await expect(board.locator(`aside[data-bead="${other.id}"]`).getByLabel('Title').inputValue()).resolves.toBe('A quiet bead to click');
      await screenshot(board, 'board-during-flood');

      // Both viewers end on the flood's last lines, identical, with no chunk missing.
      for (const page of [first, second]) {
        await expect.poll(() => terminalText(page, agent), { timeout: 120_000, interval: 250 }).toMatch(/flood complete \d+ bytes/);
      }
      await screenshot(second, 'terminal-after-flood');
      // The DOM renderer draws here (no GPU), so the flood's repaints were paced, and the
      // paced last frame was painted: what is on screen, not only in the buffer, ends the flood.
      for (const page of [first, second]) {
        const paced = await page.evaluate((a) => (window as unknown as { __overseerTerminals: { pacedRepaints(a: string): number | null } }).__overseerTerminals.pacedRepaints(a), agent);
        expect(paced).toBeGreaterThan(0);
        await expect.poll(() => page.locator(`.term-view[data-agent="${agent}"] .xterm-rows`).innerText(), { timeout: 10_000 }).toMatch(/flood complete \d+ bytes/);
      }
      const [a, b] = [await terminalText(first, agent), await terminalText(second, agent)];
      const tail = (t: string) => t.slice(t.indexOf('flood complete') - 2000, t.indexOf('flood complete') + 40);
      expect(tail(a)).toBe(tail(b));
      for (const text of [a, b]) {
        const numbers = chunkNumbers(text);
        expect(numbers.length).toBeGreaterThan(3);
        numbers.forEach((n, i) => i > 0 && expect(n).toBe(numbers[i - 1] + 1));
        const bytes = Number(/flood complete (\d+) bytes/.exec(text)![1]);
        expect(bytes).toBeGreaterThanOrEqual(20 * 1024 * 1024);
        // The last chunk printed is the last one numbered on screen.
        const perChunk = bytes / (numbers[numbers.length - 1] + 1);
        expect(Number.isInteger(perChunk)).toBe(true);
      }
      await first.context().close();
      await second.context().close();
    } finally {
      await served.stop();
    }
  }, 240_000);

  it('attaching to a long log shows all of it, and a reader scrolled up is never yanked down while output streams', async () => {
    const { served, agent } = await townWithAgent('stream-ui', { title: 'A chatty agent', scenario: 'stream' }, { TOWN_SCRIPTED_PACE_MS: '20' });
    try {
      const page = await open(served);
      await attach(page, agent);
      await expect.poll(() => terminalText(page, agent), { timeout: 30_000 }).toMatch(/^tick 3$/m);

      // Attach again now that 3,000 lines are in the scrollback: the screen comes first,
      // then the whole log takes over, from its first line.
      await page.getByRole('button', { name: `Close ${agent}` }).click();
      await attach(page, agent);
      await expect.poll(() => terminalText(page, agent), { timeout: 30_000 }).toMatch(/^log line 1 /m);
      const text = await terminalText(page, agent);
      const numbers = [...text.matchAll(/^log line (\d+) /gm)].map((m) => Number(m[1]));
      expect(numbers).toEqual(Array.from({ length: 3000 }, (_, i) => i + 1));

      const viewport = () => page.evaluate((a) => (window as unknown as { __overseerTerminals: { viewport(a: string): { lines: string[]; atBottom: boolean } } }).__overseerTerminals.viewport(a), agent);
      const lastTick = async () => Math.max(...[...(await terminalText(page, agent)).matchAll(/^tick (\d+)$/gm)].map((m) => Number(m[1])));
      const screen = page.locator(`.term-view[data-agent="${agent}"] .xterm-screen`);

      // Scroll up into the log: the view stays put while ticks keep arriving.
      await screen.hover();
      await page.mouse.wheel(0, -1500);
      await expect.poll(async () => (await viewport()).atBottom).toBe(false);
      const held = await viewport();
      expect(held.lines[0]).toMatch(/^log line \d+ /);
      const before = await lastTick();
      await expect.poll(lastTick, { timeout: 20_000 }).toBeGreaterThan(before + 5);
      expect(await viewport()).toEqual(held);
      await screenshot(page, 'terminal-scrolled-up-while-streaming');

      // Back at the bottom, it follows the output again.
      await expect
        .poll(async () => {
          await page.mouse.wheel(0, 5000);
          return (await viewport()).atBottom;
        })
        .toBe(true);
      const following = await lastTick();
      await expect.poll(lastTick, { timeout: 20_000 }).toBeGreaterThan(following + 3);
      const now = await viewport();
      expect(now.atBottom).toBe(true);
      expect(now.lines).toContain(`tick ${await lastTick()}`);
      await page.context().close();
    } finally {
      await served.stop();
    }
  }, 120_000);
});
