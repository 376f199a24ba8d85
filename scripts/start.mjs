// `npm start`: the demo town, served headless (the desktop shell comes with the UI).
// The town lives in $OVERSEER_TOWN or ~/.overseer/demo-town and is created on first run.
import { spawnSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const town = process.env.OVERSEER_TOWN ?? path.join(os.homedir(), '.overseer', 'demo-town');
const cli = path.join(root, 'bin', 'town.cjs');

if (!fs.existsSync(path.join(root, 'out', 'cli', 'town.cjs'))) {
  spawnSync(process.execPath, [path.join(root, 'scripts', 'build-cli.mjs')], { stdio: 'inherit', cwd: root });
}
if (!fs.existsSync(path.join(town, 'town.db'))) {
  const r = spawnSync(process.execPath, [cli, 'demo', town], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
console.log(`\nIn another shell:  export TOWN_DIR=${town}`);
console.log('  npx town convoy list            # the staged demo convoy');
console.log('  npx town convoy start <id>      # agents start, work, and merge');
console.log('  npx town agents · npx town attach <agent> · npx town mr list\n');
const child = spawn(process.execPath, [cli, 'serve', '--town', town], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
