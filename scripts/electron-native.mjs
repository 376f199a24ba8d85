// Builds better-sqlite3 for Electron's ABI into out/native/electron-<abi>/, beside the
// Node build that `npm test` uses (so neither build ever breaks the other). The Electron
// shell loads it through OVERSEER_SQLITE_BINDING. node-pty is N-API: one build serves both.
// Needs Electron's headers (downloaded by node-gyp from electronjs.org).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const electronVersion = require('electron/package.json').version;
const abi = fs.readFileSync(path.join(root, 'node_modules', 'electron', 'abi_version'), 'utf8').trim();
const outDir = path.join(root, 'out', 'native', `electron-${abi}`);
const target = path.join(outDir, 'better_sqlite3.node');
if (fs.existsSync(target) && !process.argv.includes('--force')) {
  console.log(`better-sqlite3 for Electron ${electronVersion} (ABI ${abi}) is built: ${target}`);
  process.exit(0);
}
const src = path.dirname(require.resolve('better-sqlite3/package.json'));
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ov-electron-native-'));
fs.cpSync(src, work, { recursive: true, filter: (p) => !p.includes(`${path.sep}build${path.sep}`) });
console.log(`building better-sqlite3 for Electron ${electronVersion} (ABI ${abi})…`);
try {
  execFileSync(process.execPath, [require.resolve('node-gyp/bin/node-gyp.js'), 'rebuild', '--release', `--target=${electronVersion}`, '--dist-url=https://electronjs.org/headers', '--runtime=electron'], { cwd: work, stdio: 'inherit' });
} catch {
  console.error('\nCould not build better-sqlite3 for Electron (node-gyp needs Electron\'s headers from electronjs.org).');
  process.exit(1);
}
fs.mkdirSync(outDir, { recursive: true });
fs.copyFileSync(path.join(work, 'build', 'Release', 'better_sqlite3.node'), target);
fs.rmSync(work, { recursive: true, force: true });
console.log(`built ${target}`);
