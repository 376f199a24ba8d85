// The overseer's brakes in real Chromium: stop and hold an agent (confirmed, from the
// keyboard), see its bead held on the Board, release it from the bead's detail; the
// e-stop in the sidebar (confirmed), the frozen banner, and thaw.
import { describe, expect, it } from 'vitest';
import { browserForFile, openTown, screenshot } from './helpers/browser';
import { makeRepo } from './helpers/repo';
import { ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const browser = browserForFile();

async function servedTown(label: string) {
  const dir = tempDir(label);
  const repo = makeRepo(tempDir('repo'));
  expect((await town(dir, ['init', dir])).code).toBe(0);
  expect((await town(dir, ['rig', 'add', 'app', repo, '--prefix', 'ap'])).code).toBe(0);
  const served = new ServedTown(dir);
  await served.start();
  return { dir, served };
}

describe('stop and hold in the UI', () => {
  it('stops an agent and holds its bead, shows it held on the board, and releases it from the detail', async () => {
    const { dir, served } = await servedTown('hold-ui');
    try {
      const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Goes quiet', '--scenario', 'stall');
      await townJson(dir, 'sling', bead.id);
      const agent = await waitFor('an agent working on the bead', async () =>
        ((await townJson(dir, 'agents')) as any[]).find((a) => a.hook === bead.id && a.status === 'working'),
      );
      const page = await openTown(browser(), served.url);
      await page.keyboard.press('5');
      const row = page.locator(`tr[data-agent="${agent.id}"]`);
      // Stop and hold lives in the row's ⋯ menu, reached from the keyboard.
      await row.getByRole('button', { name: `More actions for ${agent.name}` }).focus();
      await page.keyboard.press('Enter');
      const menu = page.getByRole('menu', { name: `More actions for ${agent.name}` });
      await menu.getByRole('menuitem', { name: 'Nudge…' }).waitFor();
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Nudge…');
      await page.keyboard.press('ArrowDown');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Stop and hold…');
      await page.keyboard.press('Enter');
      // The confirmation takes the focus: Enter confirms it.
      await row.getByRole('button', { name: `Stop ${agent.name} and hold ${bead.id}?` }).waitFor();
      await page.keyboard.press('Enter');
      await waitFor('the bead held', async () => (await townJson(dir, 'bead', 'show', bead.id)).held_at);

      await page.keyboard.press('2');
      const card = page.locator(`.card[data-bead="${bead.id}"]`);
      await card.locator('.held').waitFor();
      await screenshot(page, 'board-held');
      await card.click();
      const detail = page.getByRole('complementary', { name: `Bead ${bead.id}` });
      await detail.getByText(/not dispatched until released/).waitFor();
      expect((await townJson(dir, 'bead', 'show', bead.id)).status).toBe('open');
      await detail.getByRole('button', { name: 'Release' }).click();
      await waitFor('the bead released', async () => (await townJson(dir, 'bead', 'show', bead.id)).held_at === null);
      await card.locator('.held').waitFor({ state: 'detached' });
      await page.context().close();
    } finally {
      await served.stop();
    }
  }, 120_000);

  it('freezes the town from the sidebar after a confirmation, shows it frozen, and thaws it from the banner', async () => {
    const { dir, served } = await servedTown('estop-ui');
    try {
      const page = await openTown(browser(), served.url);
      const banner = page.getByRole('region', { name: 'Town frozen' });
      await page.getByRole('button', { name: 'E-stop' }).click();
      const confirm = page.getByRole('dialog', { name: 'E-stop the town?' });
      // Cancel first: nothing is frozen.
      await confirm.getByRole('button', { name: 'Cancel' }).click();
      expect((await townJson(dir, 'status')).frozen).toBeNull();
      expect(await banner.count()).toBe(0);

      await page.getByRole('button', { name: 'E-stop' }).click();
      await confirm.getByRole('button', { name: 'Freeze the town' }).click();
      await banner.waitFor();
      expect(await banner.textContent()).toMatch(/Town frozen.*e-stop by overseer/);
      expect((await townJson(dir, 'status')).frozen).toMatchObject({ reason: 'e-stop by overseer' });
      await screenshot(page, 'town-frozen');

      // Frozen from elsewhere shows too: a thaw from the CLI and a freeze again reach the open tab.
      expect((await town(dir, ['thaw'])).code).toBe(0);
      await banner.waitFor({ state: 'detached' });
      expect((await town(dir, ['estop', '--reason', 'from the shell'])).code).toBe(0);
      await banner.getByText(/from the shell/).waitFor();

      await banner.getByRole('button', { name: 'Thaw' }).click();
      await banner.waitFor({ state: 'detached' });
      expect((await townJson(dir, 'status')).frozen).toBeNull();
      await page.getByRole('button', { name: 'E-stop' }).waitFor();
      await page.context().close();
    } finally {
      await served.stop();
    }
  }, 120_000);

  it('says dispatch is paused and why, and resumes it from the banner', async () => {
    const { dir, served } = await servedTown('paused-ui');
    try {
      const page = await openTown(browser(), served.url);
      const banner = page.getByRole('region', { name: 'Dispatch paused' });
      expect((await town(dir, ['config', 'set', 'dispatch_paused', 'true'])).code).toBe(0);
      await banner.waitFor();
      expect(await banner.textContent()).toMatch(/Dispatch paused.*paused by the overseer/);
      await screenshot(page, 'dispatch-paused');
      await banner.getByRole('button', { name: 'Resume dispatch' }).click();
      await banner.waitFor({ state: 'detached' });
      expect((await townJson(dir, 'status')).dispatch_paused).toBe(false);
      await page.context().close();
    } finally {
      await served.stop();
    }
  }, 120_000);
});
