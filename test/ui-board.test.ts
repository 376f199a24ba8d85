// Board and rigs in real Chromium: close by dragging to Done and undo it, sling by
// dropping on a rig, and a rig form that says what is wrong before anything is saved.
import { describe, expect, it } from 'vitest';
import { browserForFile, drag, openTown, screenshot } from './helpers/browser';
import { makeRepo } from './helpers/repo';
import { ServedTown, tempDir, town, townJson } from './helpers/town';

const browser = browserForFile();

describe('the board and the rigs view', () => {
  it('closes a bead by drag with undo, slings by drop, and validates a new rig as you type', async () => {
    const dir = tempDir('board-ui');
    const repo = makeRepo(tempDir('repo'));
    expect((await town(dir, ['init', dir])).code).toBe(0);
    expect((await town(dir, ['rig', 'add', 'app', repo, '--prefix', 'ap'])).code).toBe(0);
    const done = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Close me by dragging');
    const sling = await townJson(dir, 'bead', 'create', '--title', 'Sling me onto the rig');
    const served = new ServedTown(dir, { TOWN_SCRIPTED_PACE_MS: '5000' });
    await served.start();
    try {
      const page = await openTown(browser(), served.url, { viewport: { width: 1500, height: 900 }, colorScheme: 'dark' });
      await page.keyboard.press('2');

      // Drag to Done: closed, with an undo that reopens it.
      await drag(page, page.locator(`.card[data-bead="${done.id}"]`), page.locator('[data-column="done"]'));
      await page.locator(`[data-column="done"] .card[data-bead="${done.id}"]`).waitFor();
      expect((await townJson(dir, 'bead', 'show', done.id)).status).toBe('closed');
      await page.getByRole('status').filter({ hasText: `Closed ${done.id}` }).getByRole('button', { name: 'Undo' }).click();
      await page.locator(`[data-column="ready"] .card[data-bead="${done.id}"]`).waitFor();
      expect((await townJson(dir, 'bead', 'show', done.id)).status).toBe('open');

      // Drop a rigless backlog bead on the rig: slung there, and an agent picks it up.
      await drag(page, page.locator(`.card[data-bead="${sling.id}"]`), page.locator('[data-sling="app"]'));
      await page.locator(`[data-column="in_progress"] .card[data-bead="${sling.id}"]`).waitFor({ timeout: 30_000 });
      await screenshot(page, 'board-dark');

      // A folder that is not a repository is named as the problem before saving.
      await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Rigs/ }).click();
      await page.getByRole('button', { name: 'Add rig' }).click();
      const form = page.getByRole('form', { name: 'Add a rig' });
      await form.getByLabel('Name').fill('second');
      await form.getByLabel('Folder (a git repository)').fill(tempDir('not-a-repo'));
      await form.getByText(/is not the top of a git repository/).waitFor();
      expect(await form.getByRole('button', { name: 'Add rig' }).isDisabled()).toBe(true);
      const other = makeRepo(tempDir('second-repo'));
      await form.getByLabel('Folder (a git repository)').fill(other);
      await form.getByText(/git repository · 1 branch$/).waitFor();
      await form.getByRole('button', { name: 'Add rig' }).click();
      await page.getByRole('region', { name: 'Rig second' }).waitFor();
      expect((await townJson<Array<{ name: string }>>(dir, 'rig', 'list')).map((r) => r.name)).toContain('second');
      await page.context().close();
    } finally {
      await served.stop();
    }
  }, 120_000);
});
