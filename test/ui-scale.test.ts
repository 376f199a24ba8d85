// A 5,000-bead import in real Chromium: the Board, the planner and the Overview render only
// the rows in view (never every bead), yet the last bead is reachable by scrolling and by
// keyboard, search finds a bead far off screen, and dragging still closes and plans beads.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import path from 'node:path';
import { browserForFile, drag, openTown, screenshot } from './helpers/browser';
import { writeBigTown } from './helpers/big-town';
import { makeRepo } from './helpers/repo';
import { ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const browser = browserForFile();
const BEADS = 5000;
/** Far below 5,000: what "only the rows in view" allows, with overscan, on a 1500×940 window. */
const MAX_ROWS = 200;

const count = (page: Page, selector: string) => page.locator(selector).count();

describe('a town of 5,000 beads', () => {
  it('renders only visible rows on the Board, the planner and the Overview, and stays usable', async () => {
    const dir = tempDir('scale-ui');
    expect((await town(dir, ['init', dir])).code).toBe(0);
    expect((await town(dir, ['rig', 'add', 'app', makeRepo(tempDir('repo')), '--prefix', 'ap'])).code).toBe(0);
    const big = writeBigTown(path.join(tempDir('bd'), 'issues.jsonl'), BEADS);
    const imported = await town(dir, ['import', big.file, '--rig', 'app', '--json']);
    expect(imported.code, imported.stderr).toBe(0);
    const readyCount = (await townJson<unknown[]>(dir, 'bead', 'list', '--ready')).length;
    expect(readyCount).toBeGreaterThan(2000);

    const served = new ServedTown(dir);
    await served.start();
    try {
      const page = await openTown(browser(), served.url);

      // Board: every column is a list that knows its size but holds only the cards in view.
      await page.keyboard.press('2');
      const ready = page.locator('[data-column="ready"] .column-scroll');
      await ready.locator('.card').first().waitFor();
      expect(await count(page, '.card')).toBeLessThanOrEqual(MAX_ROWS);
      expect(await ready.getByRole('listitem').first().getAttribute('aria-setsize')).toBe(String(readyCount));
      await screenshot(page, 'board-5k');

      // Scrolled to its end, the Ready column shows its last bead.
      expect(await count(page, `.card[data-bead="${big.lastReady}"]`)).toBe(0);
      await ready.evaluate((el) => (el.scrollTop = el.scrollHeight));
      await page.locator(`[data-column="ready"] .card[data-bead="${big.lastReady}"]`).waitFor();
      expect(await count(page, '.card')).toBeLessThanOrEqual(MAX_ROWS);

      // Keyboard: Home from a card goes to the first row (rendered on the way), End back to the last.
      await page.locator(`.card[data-bead="${big.lastReady}"]`).focus();
      await page.keyboard.press('Home');
      await waitFor('the first Ready card focused', () => page.evaluate(() => document.activeElement?.closest('[role="listitem"]')?.getAttribute('aria-posinset') === '1'), 10_000, 50);
      await page.keyboard.press('ArrowDown');
      await waitFor('the second Ready card focused', () => page.evaluate(() => document.activeElement?.closest('[role="listitem"]')?.getAttribute('aria-posinset') === '2'), 10_000, 50);
      await page.keyboard.press('End');
      await waitFor('the last Ready card focused', async () => (await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.bead)) === big.lastReady, 10_000, 50);

      // Search finds a bead that is far off screen.
      await page.keyboard.press('Home');
      expect(await count(page, `.card[data-bead="${big.needle.id}"]`)).toBe(0);
      await page.getByRole('searchbox', { name: 'Search beads' }).fill(big.needle.word);
      await page.locator(`[data-column="ready"] .card[data-bead="${big.needle.id}"]`).waitFor();
      await page.getByRole('button', { name: 'Clear' }).click();

      // Drag still closes a bead.
      const first = page.locator('[data-column="ready"] .card').first();
      const closing = (await first.getAttribute('data-bead'))!;
      await drag(page, first, page.locator('[data-column="done"]'));
      await waitFor(`${closing} closed`, async () => (await townJson(dir, 'bead', 'show', closing)).status === 'closed', 20_000, 100);

      // Planner: the backlog and the big convoy's members are virtualized lists too.
      await page.keyboard.press('3');
      await page.getByRole('tab', { name: /The big convoy/ }).click();
      const backlog = page.getByRole('list', { name: 'Open beads' });
      await backlog.locator('.plan-item').first().waitFor();
      const members = page.getByRole('list', { name: 'Members of The big convoy' });
      await members.getByRole('listitem').first().waitFor();
      expect(await members.getByRole('listitem').first().getAttribute('aria-setsize')).toBe(String(big.bigConvoy.members));
      expect(Number(await backlog.getByRole('listitem').first().getAttribute('aria-setsize'))).toBeGreaterThan(2000);
      expect(await count(page, '.plan-item')).toBeLessThanOrEqual(MAX_ROWS);
      await screenshot(page, 'planner-5k');

      // Filter finds the off-screen bead; dragging it into the convoy adds it.
      await page.getByRole('searchbox', { name: 'Filter open beads' }).fill(big.needle.word);
      const needle = backlog.locator(`.plan-item[data-bead="${big.needle.id}"]`);
      await needle.waitFor();
      await drag(page, needle, page.locator('[data-pane="convoy"]'));
      await waitFor(`${big.needle.id} in the big convoy`, async () => (await townJson<{ id: string; beads: string[] }[]>(dir, 'convoy', 'list')).find((c) => c.id === big.bigConvoy.id)?.beads.includes(big.needle.id), 20_000, 100);
      // The end of the member list is reachable: the new member is last.
      await members.evaluate((el) => (el.scrollTop = el.scrollHeight));
      await page.locator(`[data-member="${big.needle.id}"]`).waitFor();

      // Overview: the convoys list holds only the rows in view.
      await page.keyboard.press('1');
      const convoys = page.getByRole('list', { name: 'Convoys' });
      await convoys.locator('.convoy-row').first().waitFor();
      expect(await convoys.locator('.convoy-row').first().getAttribute('aria-setsize')).toBe(String(big.convoys));
      expect(await count(page, '.convoy-row')).toBeLessThan(big.convoys);
      expect(await count(page, '[data-bead], [data-member], .card')).toBeLessThanOrEqual(MAX_ROWS);
    } finally {
      await served.stop();
    }
  }, 240_000);
});
