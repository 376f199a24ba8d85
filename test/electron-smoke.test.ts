// The desktop shell, launched for real through Playwright's Electron driver. Electron's
// binary downloads on first launch from a host these machines cannot reach, so this test
// runs only where the binary is present and is reported as skipped (with why) otherwise.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { _electron as electron } from 'playwright-core';
import { removeTempDirs, ROOT, tempDir } from './helpers/town';

/** Electron's binary, without triggering its download (requiring 'electron' would). */
function electronBinary(): string | null {
  if (process.env.ELECTRON_PATH && fs.existsSync(process.env.ELECTRON_PATH)) return process.env.ELECTRON_PATH;
  const dir = path.join(ROOT, 'node_modules', 'electron');
  try {
    const rel = fs.readFileSync(path.join(dir, 'path.txt'), 'utf8').trim();
    const bin = path.join(dir, 'dist', rel);
    return fs.existsSync(bin) ? bin : null;
  } catch {
    return null;
  }
}

const binary = electronBinary();
const nativeForElectron = fs.existsSync(path.join(ROOT, 'out', 'native'));

afterAll(() => removeTempDirs());

describe('the desktop app', () => {
  it.skipIf(!binary || !nativeForElectron)(
    `opens the demo town in a sandboxed window${binary ? (nativeForElectron ? '' : ' (skipped: run `node scripts/electron-native.mjs` first)') : ' (skipped: no Electron binary on this machine; it downloads from a host we cannot reach)'}`,
    async () => {
      const town = path.join(tempDir('electron'), 'town');
      const app = await electron.launch({ executablePath: binary!, args: [ROOT], env: { ...process.env, OVERSEER_TOWN: town } });
      try {
        const page = await app.firstWindow();
        await page.getByRole('status').filter({ hasText: 'connected' }).waitFor();
        await page.getByRole('navigation', { name: 'Views' }).getByRole('button', { name: /^Board/ }).click();
        await page.locator('.card').first().waitFor();
        // Isolated and sandboxed: no Node in the page, only the typed bridge.
        const globals = await page.evaluate(() => {
          const w = window as unknown as { require?: unknown; process?: unknown; overseer?: { api: Record<string, unknown> } };
          return { require: typeof w.require, process: typeof w.process, api: Object.keys(w.overseer?.api ?? {}).length };
        });
        expect(globals).toEqual({ require: 'undefined', process: 'undefined', api: expect.any(Number) });
        expect(globals.api).toBeGreaterThan(20);
      } finally {
        await app.close();
      }
    },
  );
});
