// The Overview's Problems in real Chromium: an agent at a `Proceed? [y/N]` prompt shows
// with its evidence and its action, the title carries the count, a permitted browser
// notification is raised, and answering from there lands the bead.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { browserForFile, openTown, terminalText } from './helpers/browser';
import { makeRepo } from './helpers/repo';
import { ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const browser = browserForFile();

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
      // Notifications allowed by the overseer beforehand; each one the page raises is recorded.
      const context = await browser().newContext({ viewport: { width: 1400, height: 900 } });
      await context.grantPermissions(['notifications']);
      await context.addInitScript(() => {
        const Real = window.Notification;
        const shown: string[] = [];
        (window as unknown as { __notified: string[] }).__notified = shown;
        class Recorded extends Real {
          constructor(title: string, o?: NotificationOptions) {
            super(title, o);
            shown.push(title);
          }
        }
        Object.defineProperty(window, 'Notification', { value: Recorded });
      });
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
      await expect
        .poll(() => page.evaluate(() => (window as unknown as { __notified: string[] }).__notified))
        .toEqual([`${agent.name} is waiting for input`]);
      fs.mkdirSync(path.dirname(SHOT), { recursive: true });
      await page.screenshot({ path: SHOT });

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
});
