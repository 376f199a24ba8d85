// Surviving restarts in real Chromium: the engine dies under an open tab, the tab says so
// and disables actions, and the same tab (no new URL, no reload) comes back by itself when
// `town serve` runs again. Theme and open terminal tabs outlive a reload.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserForFile, openTown, terminalText } from './helpers/browser';
import { makeRepo } from './helpers/repo';
import { ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const browser = browserForFile();

/** Screenshots the overseer looks at (this evidence), beside the usual ones. */
const SHOTS = process.env.OVERSEER_SHOTS ?? path.resolve(__dirname, '..', 'test-results', 'screenshots');
async function shot(page: Page, name: string) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

const goTo = (page: Page, view: string) => page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: new RegExp(`^${view}`) }).click();
const terminal = (page: Page, agent: string) => page.locator(`.term-view[data-agent="${agent}"]`);

/** A served town whose agent waits at a prompt (its terminal shows `Proceed? [y/N]`). */
async function townWithWaitingAgent(name: string) {
  const dir = tempDir(name);
  const repo = makeRepo(tempDir('repo'));
  expect((await town(dir, ['init', dir])).code).toBe(0);
  expect((await town(dir, ['rig', 'add', 'app', repo, '--prefix', 'ap'])).code).toBe(0);
  const bead = await townJson<{ id: string }>(dir, 'bead', 'create', '--rig', 'app', '--title', 'Ask before rotating the keys', '--scenario', 'needs-input');
  const served = new ServedTown(dir);
  await served.start();
  expect((await town(dir, ['sling', bead.id])).code).toBe(0);
  const agent = await waitFor(`an agent on ${bead.id}`, async () => {
    const agents = await townJson<Array<{ id: string; hook: string | null; session: string | null }>>(dir, 'agents');
    return agents.find((a) => a.hook === bead.id && a.session)?.id;
  });
  return { dir, served, bead, agent };
}

async function attach(page: Page, agent: string) {
  await goTo(page, 'Agents');
  await page.locator(`tr[data-agent="${agent}"]`).getByRole('button', { name: 'Attach' }).click();
  await terminal(page, agent).locator('.dot.state-live').waitFor();
  await expect.poll(() => terminalText(page, agent), { timeout: 30_000 }).toContain('Proceed? [y/N]');
}

describe('an open tab across engine restarts', () => {
  it('says the engine is gone, disables actions, and reconnects by itself when `town serve` runs again', async () => {
    const { dir, served, agent } = await townWithWaitingAgent('reconnect');
    let again: ServedTown | null = null;
    try {
      // Two tabs: one on the agent's terminal, one on the board. Neither moves from here on.
      const page = await openTown(browser(), served.url);
      await attach(page, agent);
      const board = await openTown(browser(), served.url, { context: page.context() });
      await goTo(board, 'Board');
      const urls = [page.url(), board.url()];
      // Set on these very documents: a reload or a navigation would lose it.
      for (const p of [page, board]) await p.evaluate(() => ((window as unknown as { sameTab: boolean }).sameTab = true));
      const create = board.getByRole('button', { name: 'New bead in Ready' });
      await expect(create.isDisabled()).resolves.toBe(false);

      await served.kill();
      const banner = (p: Page) => p.getByRole('alert').filter({ hasText: 'Disconnected from the town engine' });
      await banner(page).waitFor();
      await expect.poll(() => banner(page).textContent()).toMatch(/reconnecting… \(attempt \d+\)/);
      await expect.poll(() => banner(page).textContent()).toMatch(/nothing answers at 127\.0\.0\.1:\d+/i);
      await terminal(page, agent).locator('.dot.state-detached').waitFor();
      await expect(terminal(page, agent).locator('.terminal-note').textContent()).resolves.toMatch(/Detached: the town engine is unreachable/);
      // The last screen stays in view, and its tab (not an action on the town) stays usable.
      expect(await terminalText(page, agent)).toContain('Proceed? [y/N]');
      await expect(page.getByRole('tab').getByRole('button').first().isEnabled()).resolves.toBe(true);
      await shot(page, 'disconnected-terminal');

      await banner(board).waitFor();
      await expect(create.isDisabled()).resolves.toBe(true);
      await board.keyboard.press('Control+k');
      await expect(board.getByRole('dialog').getByRole('option', { name: 'Create bead…' }).getAttribute('aria-disabled')).resolves.toBe('true');
      await board.keyboard.press('Escape');
      await shot(board, 'disconnected-board');

      // Planned while the engine is down (the CLI opens the town itself), then served again.
      const whileDown = await townJson<{ id: string }>(dir, 'bead', 'create', '--rig', 'app', '--title', 'Planned while the engine was down');
      again = new ServedTown(dir);
      await again.start();
      expect(again.url).toBe(served.url);

      await banner(board).waitFor({ state: 'detached', timeout: 30_000 });
      await board.locator(`[data-column="ready"] .card[data-bead="${whileDown.id}"]`).waitFor();
      await expect(create.isDisabled()).resolves.toBe(false);
      // The live feed runs again: a bead made now shows up without a reload.
      const afterRestart = await townJson<{ id: string }>(dir, 'bead', 'create', '--rig', 'app', '--title', 'Made after the restart');
      await board.locator(`.card[data-bead="${afterRestart.id}"]`).waitFor();
      await shot(board, 'reconnected-board');

      // The terminal, never unmounted, attached again by itself to the agent's session in the new engine.
      await banner(page).waitFor({ state: 'detached' });
      await terminal(page, agent).locator('.dot.state-live').waitFor({ timeout: 30_000 });
      await expect.poll(() => terminalText(page, agent), { timeout: 30_000 }).toContain('Proceed? [y/N]');
      await shot(page, 'reconnected-terminal');

      // The same documents at the same addresses, never the printed URL again.
      expect([page.url(), board.url()]).toEqual(urls);
      for (const p of [page, board]) expect(await p.evaluate(() => (window as unknown as { sameTab?: boolean }).sameTab)).toBe(true);
      await page.context().close();
    } finally {
      await again?.stop();
      await served.stop();
    }
  }, 120_000);

  it('keeps the theme and the open terminal tabs through a reload', async () => {
    const { served, agent } = await townWithWaitingAgent('reload');
    try {
      const page = await openTown(browser(), served.url);
      await page.keyboard.press('Control+k');
      await page.getByRole('dialog').getByRole('option', { name: 'Theme: dark' }).click();
      await expect(page.locator('html').getAttribute('data-theme')).resolves.toBe('dark');
      await attach(page, agent);
      await goTo(page, 'Board');

      await page.reload();
      await page.getByRole('status').filter({ hasText: 'connected' }).waitFor();
      await expect(page.locator('html').getAttribute('data-theme')).resolves.toBe('dark');
      await goTo(page, 'Terminals');
      await expect(page.getByRole('tab').allTextContents()).resolves.toHaveLength(1);
      await terminal(page, agent).locator('.dot.state-live').waitFor();
      await expect.poll(() => terminalText(page, agent), { timeout: 30_000 }).toContain('Proceed? [y/N]');
      await shot(page, 'reloaded-terminal-dark');
      await page.context().close();
    } finally {
      await served.stop();
    }
  }, 90_000);
});
