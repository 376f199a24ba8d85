// The control room end to end: `town serve` on a temp demo town, driven through the UI in
// real Chromium. Screenshots of each view land in test-results/screenshots.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserForFile, drag, openTown, screenshot, terminalText } from './helpers/browser';
import { ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const browser = browserForFile();

const open = (served: ServedTown, o: { colorScheme?: 'light' | 'dark' } = {}) => openTown(browser(), served.url, o);

/** Through the sidebar (number keys belong to a focused terminal). */
const goTo = (page: Page, view: string) => page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: new RegExp(`^${view}`) }).click();

const member = (page: Page, title: string) => page.locator('[data-member]').filter({ hasText: title });

describe('the control room in a browser', () => {
  it('plans a bead into a convoy by drag and drop, answers an agent from its terminal, and watches the convoy land', async () => {
    const dir = tempDir('ui');
    expect((await town(dir, ['demo', dir])).code).toBe(0);
    const served = new ServedTown(dir, { TOWN_SCRIPTED_PACE_MS: '30' });
    await served.start();
    try {
      const page = await open(served);
      await screenshot(page, 'overview-before');

      // Board: create a bead inline in Ready.
      await page.keyboard.press('2');
      await page.getByRole('button', { name: 'New bead in Ready' }).click();
      await page.getByLabel('New bead title').fill('Add a changelog entry');
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      const card = page.locator('[data-column="ready"] .card').filter({ hasText: 'Add a changelog entry' });
      await card.waitFor();
      await screenshot(page, 'board');

      // Planner: drag it into the staged convoy, which already holds the bead that asks first.
      await page.keyboard.press('3');
      const convoyPane = page.locator('[data-pane="convoy"]');
      await page.getByRole('tab', { name: /First release/ }).click(); // the demo stages a second convoy too
      await member(page, 'Rotate the API keys').waitFor();
      await drag(page, page.locator('[data-pane="backlog"] .plan-item').filter({ hasText: 'Add a changelog entry' }), convoyPane);
      await member(page, 'Add a changelog entry').waitFor();

      // A dependency by drag: the changelog waits on the typo fix.
      const typo = member(page, 'Fix the typo');
      const typoId = await typo.getAttribute('data-member');
      await drag(page, member(page, 'Add a changelog entry').locator('.link-handle'), typo);
      await member(page, 'Add a changelog entry').locator(`[data-dep="${typoId}"]`).waitFor();

      // A cycle is refused inline: the health check cannot wait on what waits on it.
      await drag(page, member(page, 'Add a health check').locator('.link-handle'), member(page, 'Document the health check'));
      await expect.poll(() => member(page, 'Add a health check').getByRole('alert').textContent()).toMatch(/cycle/);
      await screenshot(page, 'planner');

      // Start it; the agent that asks first waits for an answer in its terminal.
      await page.getByRole('button', { name: 'Start convoy' }).click();
      const asker = await waitFor('the asking agent to wait for input', async () => {
        const agents = await townJson<Array<{ id: string; hook: string | null }>>(dir, 'agents');
        const beads = await townJson<Array<{ id: string; title: string }>>(dir, 'bead', 'list');
        const bead = beads.find((b) => b.title.startsWith('Rotate the API keys'))!;
        return agents.find((a) => a.hook === bead.id)?.id;
      });
      await page.keyboard.press('5');
      await screenshot(page, 'agents');
      await page.locator(`tr[data-agent="${asker}"]`).getByRole('button', { name: 'Attach' }).click();
      const terminal = page.locator(`.term-view[data-agent="${asker}"]`);
      await terminal.locator('[data-state="live"], .dot.state-live').first().waitFor();
      await expect.poll(() => terminalText(page, asker), { timeout: 30_000 }).toContain('Proceed? [y/N]');
      await screenshot(page, 'terminal');
      await terminal.locator('.xterm').click();
      await page.keyboard.type('y');
      await page.keyboard.press('Enter');
      await expect.poll(() => terminalText(page, asker), { timeout: 30_000 }).toMatch(/town done/);

      // The convoy lands, and the overview shows it at 100%.
      await goTo(page, 'Overview');
      const progress = page.locator('.convoy-row').filter({ hasText: 'First release' }).getByRole('progressbar');
      await expect
        .poll(() => progress.getAttribute('aria-valuenow', { timeout: 1000 }).catch(() => null), { timeout: 90_000, interval: 250 })
        .toBe('100')
        .catch(async (err: Error) => {
          // Say where the town stood, not only what the progress bar showed.
          await screenshot(page, 'overview-not-landed');
          const { stdout: beadList } = await town(dir, ['bead', 'list']);
          const { stdout: events } = await town(dir, ['events']);
          throw new Error(`${err.message}\n--- beads ---\n${beadList}\n--- last events ---\n${events.split('\n').slice(-40).join('\n')}`);
        });
      await page.locator('.convoy-row').filter({ hasText: 'First release' }).getByText('landed').waitFor();
      await screenshot(page, 'overview-landed');

      // Every member merged; the changelog waited for the typo fix.
      const beads = await townJson<Array<{ id: string; title: string; status: string; closed_at: string }>>(dir, 'bead', 'list');
      const byTitle = (t: string) => beads.find((b) => b.title.startsWith(t))!;
      for (const t of ['Add a changelog entry', 'Rotate the API keys', 'Fix the typo', 'Add a health check', 'Document the health check']) {
        expect(byTitle(t).status).toBe('closed');
      }
      expect(byTitle('Add a changelog entry').closed_at >= byTitle('Fix the typo').closed_at).toBe(true);

      // The other views render with what happened.
      await goTo(page, 'Rigs');
      await page.getByRole('region', { name: 'Rig sample' }).getByText('polecat/', { exact: false }).first().waitFor();
      await screenshot(page, 'rigs');
      await goTo(page, 'Board');
      await page.locator('[data-column="done"] .card').filter({ hasText: 'Add a changelog entry' }).click();
      await page.getByRole('complementary', { name: /^Bead / }).getByText('refinery.merged').first().waitFor();
      await screenshot(page, 'bead-detail');
      await page.keyboard.press('Escape');
      await page.keyboard.press('Control+k');
      await page.getByPlaceholder('Type a command or search…').fill('theme');
      await screenshot(page, 'command-palette');
      await page.keyboard.press('Escape');
      await page.context().close();
    } finally {
      await served.stop();
    }
  }, 180_000);
});
