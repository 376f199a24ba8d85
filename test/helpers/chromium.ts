// Real Chromium for UI tests and benchmarks, first found of: $CHROMIUM_PATH, Debian's
// /usr/bin/chromium, a Playwright-managed build, and the build packaged in the
// @sparticuz/chromium devDependency (so a fresh machine needs no apt-get).
// OVERSEER_CHROMIUM=packaged skips the others: it proves the packaged one works here.
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { packagedChromium, packagedChromiumUnavailable } from './packaged-chromium';

export const CHROMIUM_FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

export interface ChromiumChoice {
  executablePath: string;
  /** Which browser, in words, for the test run's first lines. */
  description: string;
  /** Extra environment for the browser process only. */
  env?: Record<string, string>;
}

function installed(): ChromiumChoice | null {
  const candidates: [string | undefined, string][] = [
    [process.env.CHROMIUM_PATH, '$CHROMIUM_PATH'],
    ['/usr/bin/chromium', "Debian's Chromium"],
    ['/usr/bin/chromium-browser', "the system's Chromium"],
  ];
  try {
    candidates.push([chromium.executablePath(), "Playwright's Chromium"]);
  } catch {
    // no Playwright-managed browser
  }
  const found = candidates.find(([p]) => p && fs.existsSync(p));
  return found ? { executablePath: found[0]!, description: `${found[1]} at ${found[0]}` } : null;
}

function packaged(): ChromiumChoice {
  const p = packagedChromium();
  return { executablePath: p.executablePath, env: p.env, description: `Chromium packaged in @sparticuz/chromium ${p.version}, unpacked to ${p.executablePath}` };
}

export function findChromium(): ChromiumChoice {
  const forced = process.env.OVERSEER_CHROMIUM === 'packaged';
  const found = forced ? null : installed();
  if (found) return found;
  const unavailable = packagedChromiumUnavailable();
  if (!unavailable) return packaged();
  throw new Error(
    `No Chromium found for the UI tests (${unavailable}). Install Debian's (apt-get install -y chromium), or set CHROMIUM_PATH to a Chromium binary.`,
  );
}

/** A fresh browser: Playwright gives every launch a new temporary user-data dir. */
export async function launchChromium(): Promise<Browser> {
  const c = findChromium();
  return chromium.launch({ executablePath: c.executablePath, args: CHROMIUM_FLAGS, env: c.env ? ({ ...process.env, ...c.env } as Record<string, string>) : undefined });
}
