// Terminals under load in real Chromium: two browser contexts watch one flooding agent
// and see the same output to the last line, while the board in a third tab stays usable.
import { describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { browserForFile, screenshot, terminalText } from './helpers/browser';
import { makeRepo } from './helpers/repo';
import { ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const browser = browserForFile();

async function open(served: ServedTown, context = null as null | Awaited<ReturnType<Browser['newContext']>>): Promise<Page> {
  const ctx = context ?? (await browser().newContext({ viewport: { width: 1400, height: 900 } }));
  const page = await ctx.newPage();
  await page.goto(served.url);
  await page.getByRole('status').filter({ hasText: 'connected' }).waitFor();
  return page;
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
    const dir = tempDir('flood-ui');
    const repo = makeRepo(tempDir('repo'));
    expect((await town(dir, ['init', dir])).code).toBe(0);
    expect((await town(dir, ['rig', 'add', 'app', repo, '--prefix', 'ap'])).code).toBe(0);
    const other = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'A quiet bead to click');
    const flood = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Flood the terminal', '--scenario', 'flood');
    // A slow start (the scripted agent's progress steps) leaves time to attach before the flood.
    const served = new ServedTown(dir, { TOWN_SCRIPTED_PACE_MS: '1500' });
    await served.start();
    try {
      expect((await town(dir, ['sling', flood.id])).code).toBe(0);
      const agent = await waitFor('the flood agent to start', async () => {
        const agents = await townJson<Array<{ id: string; hook: string | null; session: string | null }>>(dir, 'agents');
        return agents.find((a) => a.hook === flood.id && a.session)?.id;
      });

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
});
