// The CLI and the scripted agent run as real processes from out/cli: build them once.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

export default function setup() {
  const root = path.resolve(__dirname, '..');
  execFileSync(process.execPath, [path.join(root, 'scripts', 'build-cli.mjs')], { cwd: root, stdio: 'inherit' });
  process.env.OVERSEER_ROOT = root;
}
