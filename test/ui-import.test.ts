// Dropping a bd JSONL file onto the window in real Chromium: a rig is picked, the import runs
// with a progress bar, the summary is shown, and the Board's Ready column follows the engine's
// ready rule (an epic's children wait while the epic is blocked).
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { browserForFile, openTown, screenshot } from './helpers/browser';
import { makeRepo } from './helpers/repo';
import { ServedTown, tempDir, town, townJson } from './helpers/town';

const browser = browserForFile();
const FIXTURE = path.resolve(__dirname, 'fixtures', 'bd-town.jsonl');

describe('importing a dropped bd file', () => {
  it('imports into the chosen rig, shows the summary, and the Board shows what is ready', async () => {
    const dir = tempDir('import-ui');
    expect((await town(dir, ['init', dir])).code).toBe(0);
    expect((await town(dir, ['rig', 'add', 'app', makeRepo(tempDir('repo-a')), '--prefix', 'ap'])).code).toBe(0);
    expect((await town(dir, ['rig', 'add', 'gastown', makeRepo(tempDir('repo-g')), '--prefix', 'gt'])).code).toBe(0);
    const served = new ServedTown(dir);
    await served.start();
    try {
      const page = await openTown(browser(), served.url);
      await page.keyboard.press('2');
      const text = fs.readFileSync(FIXTURE, 'utf8');
      await page.evaluate((content) => {
        const data = new DataTransfer();
        data.items.add(new File([content], 'issues.jsonl', { type: 'application/x-ndjson' }));
        window.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, cancelable: true }));
        window.dispatchEvent(new DragEvent('drop', { dataTransfer: data, cancelable: true }));
      }, text);
      const dialog = page.getByRole('dialog', { name: 'Import beads' });
      await dialog.getByRole('combobox').selectOption('gastown');
      await dialog.getByRole('button', { name: 'Import' }).click();
      await dialog.getByRole('heading', { name: 'Imported into gastown' }).waitFor();
      await expect.poll(() => dialog.textContent()).toContain('imported 12, updated 0');
      expect(await dialog.textContent()).toContain('line 9 (not JSON');
      await screenshot(page, 'import-summary');
      await dialog.getByRole('button', { name: 'Close' }).click();

      const beads = await townJson<{ id: string; rig: string; ready: boolean }[]>(dir, 'bead', 'list', '--ready');
      expect(beads.map((b) => b.id).sort()).toEqual(['gt-a2', 'gt-a4', 'gt-a5', 'gt-a6', 'gt-a7']);
      expect(new Set(beads.map((b) => b.rig))).toEqual(new Set(['gastown']));
      for (const id of ['gt-a2', 'gt-a4', 'gt-a5']) await page.locator(`[data-column="ready"] .card[data-bead="${id}"]`).waitFor();
      // Blocked, or under a blocked epic: the Backlog, as the engine says.
      for (const id of ['gt-a1', 'gt-ep1', 'gt-ep1.1']) await page.locator(`[data-column="backlog"] .card[data-bead="${id}"]`).waitFor();
    } finally {
      await served.stop();
    }
  });

  it('refuses a file that is not .jsonl without sending it', async () => {
    const dir = tempDir('import-ui-bad');
    expect((await town(dir, ['init', dir])).code).toBe(0);
    const served = new ServedTown(dir);
    await served.start();
    try {
      const page = await openTown(browser(), served.url);
      await page.evaluate(() => {
        const data = new DataTransfer();
        data.items.add(new File(['secret'], 'id_ed25519', { type: 'text/plain' }));
        window.dispatchEvent(new DragEvent('drop', { dataTransfer: data, cancelable: true }));
      });
      await page.getByRole('dialog', { name: 'Import beads' }).getByRole('alert').filter({ hasText: 'id_ed25519 is not a .jsonl file' }).waitFor();
    } finally {
      await served.stop();
    }
  });
});
