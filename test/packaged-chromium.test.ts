// The browser packaged in @sparticuz/chromium is what a fresh machine's UI tests get (no
// apt-get): it must start here with only its own libraries and render text with its fonts.
import { afterEach, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { findChromium, launchChromium } from './helpers/chromium';
import { packagedChromiumUnavailable } from './helpers/packaged-chromium';

const unavailable = packagedChromiumUnavailable();

describe.skipIf(unavailable)(`the packaged Chromium${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let browser: Browser | null = null;
  const saved = process.env.OVERSEER_CHROMIUM;
  afterEach(async () => {
    await browser?.close();
    if (saved === undefined) delete process.env.OVERSEER_CHROMIUM;
    else process.env.OVERSEER_CHROMIUM = saved;
  });

  it('is chosen over the system browser when forced, launches, and lays out text', async () => {
    process.env.OVERSEER_CHROMIUM = 'packaged';
    expect(findChromium().description).toMatch(/^Chromium packaged in @sparticuz\/chromium \d+/);
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.setContent('<p id="t" style="display:inline-block;font-family:sans-serif">Overseer on a fresh machine</p>');
    expect(await page.locator('#t').textContent()).toBe('Overseer on a fresh machine');
    // Glyphs came from a font: the paragraph has a real width.
    expect((await page.locator('#t').boundingBox())!.width).toBeGreaterThan(100);
  });
});
