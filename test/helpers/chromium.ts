// Real Chromium for UI tests and benchmarks: Debian's /usr/bin/chromium (installed by
// .ci/run), or $CHROMIUM_PATH, or a Playwright-managed build if one is installed.
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

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
