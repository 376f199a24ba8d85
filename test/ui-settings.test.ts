// The Settings view in real Chromium: edit a setting in place and the CLI sees it; a bad
// value is refused beside the setting and changes nothing; a change made elsewhere (the
// CLI) shows without a reload; reset to default; the command palette opens a setting.
import { describe, expect, it } from 'vitest';
import { browserForFile, openTown, screenshot } from './helpers/browser';
import { ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const browser = browserForFile();
const get = async (dir: string, key: string) => (await townJson(dir, 'config', 'get', key)).display as string;

describe('the Settings view', () => {
  it('edits settings in place, shows refusals beside them, and follows changes made elsewhere', async () => {
    const dir = tempDir('settings-ui');
    expect((await town(dir, ['init', dir])).code).toBe(0);
    const served = new ServedTown(dir);
    await served.start();
    try {
      const page = await openTown(browser(), served.url);
      await page.keyboard.press('8');
      await page.getByRole('heading', { name: 'Settings' }).waitFor();
      for (const group of ['Dispatch', 'Town', 'Agent health', 'Escalations', 'Clean-up', 'Refinery', 'Agents']) {
        await page.getByRole('region', { name: group, exact: true }).waitFor();
      }

      // Type a duration, Enter: saved; the CLI reads it back.
      const nudge = page.getByLabel('health.nudge_after', { exact: true });
      expect(await nudge.inputValue()).toBe('15m');
      await nudge.fill('20m');
      await nudge.press('Enter');
      await page.getByRole('status').filter({ hasText: 'health.nudge_after = 20m (was 15m)' }).waitFor();
      expect(await get(dir, 'health.nudge_after')).toBe('20m');
      const row = page.locator('[data-setting="health.nudge_after"]');
      await row.getByText('changed', { exact: true }).waitFor();

      // A bad value: the engine's reason beside the field, the town unchanged.
      await nudge.fill('soon');
      await nudge.press('Enter');
      await row.getByRole('alert').filter({ hasText: 'expected a duration like 90s, 15m or 2h' }).waitFor();
      expect(await nudge.getAttribute('aria-invalid')).toBe('true');
      expect(await get(dir, 'health.nudge_after')).toBe('20m');
      await screenshot(page, 'settings-error');
      // Escape puts the town's value back.
      await nudge.press('Escape');
      expect(await nudge.inputValue()).toBe('20m');
      expect(await row.getByRole('alert').count()).toBe(0);

      // A change from the CLI reaches the open page without a reload.
      await town(dir, ['config', 'set', 'escalation.cooldown', '45m']);
      const cooldown = page.getByLabel('escalation.cooldown', { exact: true });
      await waitFor('the page to show 45m', async () => (await cooldown.inputValue()) === '45m', 10_000);

      // A choice is a select; leaving a field saves it; reset goes back to the default.
      await page.getByLabel('agents.sandbox', { exact: true }).selectOption('bwrap');
      await waitFor('the sandbox to be bwrap', async () => (await get(dir, 'agents.sandbox')) === 'bwrap');
      const backoff = page.getByLabel('dispatch.backoff', { exact: true });
      await backoff.fill('0,1m');
      await backoff.press('Tab');
      await waitFor('the backoff to be saved', async () => (await get(dir, 'dispatch.backoff')) === '0s,1m');
      await page.getByRole('button', { name: 'Reset escalation.cooldown to its default, 30m' }).click();
      await waitFor('the cooldown to be reset', async () => (await get(dir, 'escalation.cooldown')) === '30m');
      expect(await cooldown.inputValue()).toBe('30m');

      // The palette finds a setting by its old name and focuses it.
      await page.keyboard.press('Control+k');
      await page.getByRole('option', { name: 'Change a setting…' }).click();
      await page.keyboard.type('max_polecats_town');
      await page.getByRole('option', { name: /^town\.max_polecats/ }).waitFor();
      await page.keyboard.press('Enter');
      const cap = page.getByLabel('town.max_polecats', { exact: true });
      await waitFor('the capacity field to have focus', () => cap.evaluate((el) => el === document.activeElement));
      await cap.fill('8');
      await cap.press('Enter');
      await waitFor('the capacity to be 8', async () => (await get(dir, 'town.max_polecats')) === '8');

      await page.setViewportSize({ width: 1500, height: 1900 });
      await screenshot(page, 'settings');
      await page.context().close();
    } finally {
      await served.stop();
    }
  }, 120_000);
});
