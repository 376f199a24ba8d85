// The Overview's Problems in real Chromium: an agent at a `Proceed? [y/N]` prompt shows
// with its evidence and its action, the title carries the count, a permitted browser
// notification is raised, and answering from there lands the bead.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { browserForFile, openTown, terminalText } from './helpers/browser';
import { makeRepo } from './helpers/repo';
import { ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const browser = browserForFile();

/** A browser context where the overseer has allowed notifications; each one the page raises is recorded. */
async function notifyingContext() {
  const context = await browser().newContext({ viewport: { width: 1400, height: 900 } });
  await context.grantPermissions(['notifications']);
  await context.addInitScript(() => {
    const Real = window.Notification;
    const w = window as unknown as { __notified: string[]; __notifications: Notification[] };
    w.__notified = [];
    w.__notifications = [];
    class Recorded extends Real {
      constructor(title: string, o?: NotificationOptions) {
        super(title, o);
        w.__notified.push(title);
        w.__notifications.push(this);
      }
    }
    Object.defineProperty(window, 'Notification', { value: Recorded });
  });
  return context;
}

const notified = (page: Page) => page.evaluate(() => (window as unknown as { __notified: string[] }).__notified);

const SHOT = process.env.PROBLEMS_SHOT ?? path.resolve(__dirname, '..', 'test-results', 'screenshots', 'problems.png');

describe('problems in the browser', () => {
  it('a waiting agent appears with its evidence and a title badge; Answer opens its terminal focused, and y + Enter lands the bead', async () => {
    const dir = tempDir('problems');
    const repo = makeRepo(tempDir('repo'));
    expect((await town(dir, ['init', dir])).code).toBe(0);
    expect((await town(dir, ['rig', 'add', 'app', repo, '--prefix', 'ap'])).code).toBe(0);
    const bead = await townJson<{ id: string }>(dir, 'bead', 'create', '--rig', 'app', '--title', 'Rotate the keys', '--scenario', 'needs-input');
    const served = new ServedTown(dir, { TOWN_SCRIPTED_PACE_MS: '30' });
    await served.start();
    try {
      const context = await notifyingContext();
      const page = await openTown(browser(), served.url, { context });
      const townName = path.basename(dir);
      await expect.poll(() => page.title()).toBe(`Overseer — ${townName}`);
      await expect(page.getByRole('button', { name: 'Notifications on' }).isDisabled()).resolves.toBe(true);

      expect((await town(dir, ['sling', bead.id])).code).toBe(0);
      const agent = await waitFor('the agent to wait for input', async () => {
        const agents = await townJson<Array<{ id: string; name: string; hook: string | null; status: string }>>(dir, 'agents');
        return agents.find((a) => a.hook === bead.id && a.status === 'waiting');
      });

      const problems = page.getByRole('region', { name: 'Problems' });
      const row = problems.locator(`[data-problem="wait:${agent.id}"]`);
      await row.waitFor();
      await expect.poll(() => row.textContent()).toContain(`${agent.name} is waiting for input`);
      const evidence = (await row.locator('.evidence').textContent()) ?? '';
      expect(evidence).toContain('is reading the terminal');
      expect(evidence).toContain('Proceed? [y/N]');
      await expect.poll(() => page.title()).toBe(`(1) Overseer — ${townName}`);
      await expect.poll(() => notified(page)).toEqual([`${agent.name} is waiting for input`]);
      fs.mkdirSync(path.dirname(SHOT), { recursive: true });
      await page.screenshot({ path: SHOT });
      // The Agents view gives the same evidence beside the status.
      await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Agents/ }).click();
      await expect.poll(() => page.locator(`tr[data-agent="${agent.id}"] .evidence`).textContent()).toContain('is reading the terminal');

      // Clicking the notification (from another view) opens the agent's terminal.
      await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Board/ }).click();
      await page.evaluate(() => (window as unknown as { __notifications: Notification[] }).__notifications[0].onclick?.(new Event('click')));
      await page.locator(`.term-view[data-agent="${agent.id}"]`).waitFor();
      await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Overview/ }).click();

      // Answer: the terminal opens, live and focused, so what the overseer types goes to the agent.
      await row.getByRole('button', { name: `Answer ${agent.name}` }).click();
      const terminal = page.locator(`.term-view[data-agent="${agent.id}"][data-state="live"]`);
      await terminal.waitFor();
      await expect.poll(() => terminalText(page, agent.id)).toContain('Proceed? [y/N]');
      await expect
        .poll(() => page.evaluate((id) => !!document.activeElement?.closest(`.term-view[data-agent="${id}"]`), agent.id))
        .toBe(true);
      await page.keyboard.type('y');
      await page.keyboard.press('Enter');

      await waitFor('the bead to land', async () => (await townJson<{ status: string }>(dir, 'bead', 'show', bead.id)).status === 'closed', 90_000);
      await expect.poll(() => page.title(), { timeout: 30_000 }).toBe(`Overseer — ${townName}`);
      await context.close();
    } finally {
      await served.stop();
    }
  }, 180_000);

  it('an urgent escalation shows with its evidence, notifies, counts in the title, and Ack clears it', async () => {
    const dir = tempDir('problems-esc');
    expect((await town(dir, ['init', dir])).code).toBe(0);
    const served = new ServedTown(dir);
    await served.start();
    try {
      const context = await notifyingContext();
      const page = await openTown(browser(), served.url, { context });
      const townName = path.basename(dir);
      // Low ones wait in the list without a notification; high ones notify.
      await town(dir, ['escalate', '--severity', 'low', '--reason', 'slow mirror', 'npm mirror answers in 4 s']);
      await town(dir, ['escalate', '--severity', 'high', '--reason', 'disk almost full', 'only 2% left on /work']);
      const problems = page.getByRole('region', { name: 'Problems' });
      const row = problems.locator('li').filter({ hasText: 'disk almost full' });
      await row.waitFor();
      expect(await row.locator('.evidence').textContent()).toBe('only 2% left on /work');
      await expect.poll(() => page.title()).toBe(`(2) Overseer — ${townName}`);
      await expect.poll(() => notified(page)).toEqual(['High: disk almost full']);

      await row.getByRole('button', { name: /^Ack/ }).focus();
      await page.keyboard.press('Enter');
      await row.waitFor({ state: 'detached' });
      await expect.poll(() => page.title()).toBe(`(1) Overseer — ${townName}`);
      const all = await townJson<Array<{ reason: string; acked_at: string | null }>>(dir, 'escalations', '--all');
      expect(all.find((e) => e.reason === 'disk almost full')!.acked_at).not.toBeNull();
      await context.close();
    } finally {
      await served.stop();
    }
  }, 60_000);
});
