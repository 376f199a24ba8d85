// The CLI and the scripted agent run as real processes from out/cli: build them once.
// Overseer's per-user state (the overseer tokens) goes to a temp dir, never the real home:
// workers are forked after this runs and inherit it, and so do the CLIs they start.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findChromium } from './helpers/chromium';

export default function setup() {
  const root = path.resolve(__dirname, '..');
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build-cli.mjs')], { cwd: root, stdio: 'inherit' });
  process.env.OVERSEER_ROOT = root;
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'ov-home-'));
  process.env.OVERSEER_HOME = home;
  // Say which browser the UI tests drive (and unpack a packaged one once, not per worker).
  try {
    console.log(`[chromium] UI tests use ${findChromium().description}`);
  } catch (e) {
    console.log(`[chromium] ${(e as Error).message}`);
  }
  return () => fs.rmSync(home, { recursive: true, force: true });
}
