// `npm start`: the demo town served with its UI in the browser (`town serve`). The
// town lives in $OVERSEER_TOWN or ~/.overseer/demo-town and is created on first run.
// The desktop window is `npm run app` (it needs Electron's binary, fetched on first use).
import { spawnSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const town = process.env.OVERSEER_TOWN ?? path.join(os.homedir(), '.overseer', 'demo-town');
const cli = path.join(root, 'bin', 'town.cjs');

if (!fs.existsSync(path.join(root, 'out', 'cli', 'town.cjs')) || !fs.existsSync(path.join(root, 'out', 'renderer', 'index.html'))) {
  const r = spawnSync('npm', ['run', 'build'], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
if (!fs.existsSync(path.join(town, 'town.db'))) {
  const r = spawnSync(process.execPath, [cli, 'demo', town], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
console.log('\nOpen the URL below: plan on the Board and in Convoys, press "Start convoy", watch the agents.');
console.log(`The CLI works too, in another shell:  export TOWN_DIR=${town}; npx town convoy list\n`);
const child = spawn(process.execPath, [cli, 'serve', '--town', town], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code) => process.exit(code ?? 0));
