// Real Chromium for UI tests: Debian's /usr/bin/chromium (installed by .ci/run), or
// $CHROMIUM_PATH, or a Playwright-managed build if one is installed.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

export const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

export function findChromium(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  try {
    candidates.push(chromium.executablePath());
  } catch {
    // no Playwright-managed browser
  }
  const found = candidates.find((c) => c && fs.existsSync(c));
  if (!found) {
    throw new Error(
      'No Chromium found for the UI tests. Install Debian\'s (apt-get install -y chromium), or set CHROMIUM_PATH to a Chromium binary.',
    );
  }
  return found;
}

/** A fresh browser: Playwright gives every launch a new temporary user-data dir. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium(), args: CHROMIUM_FLAGS });
}

export const SHOTS = path.resolve(__dirname, '..', '..', 'test-results', 'screenshots');
export async function screenshot(page: Page, name: string) {
  fs.mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** Drags with real pointer moves (dnd-kit needs movement past its activation distance). */
export async function drag(page: Page, source: Locator, target: Locator) {
  await source.scrollIntoViewIfNeeded();
  const s = (await source.boundingBox())!;
  await page.mouse.move(s.x + s.width / 2, s.y + s.height / 2);
  await page.mouse.down();
  await page.mouse.move(s.x + s.width / 2 + 12, s.y + s.height / 2 + 12, { steps: 4 });
  const t = (await target.boundingBox())!;
  await page.mouse.move(t.x + t.width / 2, t.y + t.height / 2, { steps: 12 });
  await page.mouse.move(t.x + t.width / 2 + 2, t.y + t.height / 2 + 2, { steps: 2 });
  await page.mouse.up();
}

/** The text on an open terminal's screen and scrollback (what the overseer sees). */
export function terminalText(page: Page, agent: string): Promise<string> {
  return page.evaluate((a) => (window as unknown as { __overseerTerminals: { text(a: string): string } }).__overseerTerminals.text(a), agent);
}
