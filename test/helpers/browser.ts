// Browser helpers for the UI tests (vitest hooks, screenshots, drags, terminal text).
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { removeTempDirs } from './town';
import { launchChromium } from './chromium';


/** One browser for a test file (launched before, closed after, with the temp dirs). */
export function browserForFile(): () => Browser {
  let browser: Browser | null = null;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    removeTempDirs();
  });
  return () => browser!;
}

/**
 * A page on a served town, once its UI says "connected". A new browser context unless
 * `context` is given (a second tab of the same user). Page errors fail the test.
 */
export async function openTown(
  browser: Browser,
  url: string,
  o: { context?: BrowserContext; viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' } = {},
): Promise<Page> {
  const context = o.context ?? (await browser.newContext({ viewport: o.viewport ?? { width: 1500, height: 940 }, colorScheme: o.colorScheme ?? 'light' }));
  const page = await context.newPage();
  page.on('pageerror', (e) => {
    throw e;
  });
  await page.goto(url);
  await page.getByRole('status').filter({ hasText: 'connected' }).waitFor();
  return page;
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
