// `npm start`: the demo town served with its UI in the browser (`town serve`). The
// town lives in $OVERSEER_TOWN or ~/.overseer/demo-town and is created on first run.
// The desktop window is `npm run app` (it needs Electron's binary, fetched on first use).
//
// Stopping: package.json runs this with `exec`, so npm's forwarded SIGINT/SIGTERM reach this
// process (a shell between would swallow SIGINT and die of SIGTERM, leaving the server
// running). The first of SIGINT, SIGTERM or SIGHUP (the terminal closed) is passed on to the
// server once; it stops its sessions and closes the town, and this process exits as it did.
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
  // Quietly (--json): the CLI's own next steps ("start it: … serve") are what this script does.
  const r = spawnSync(process.execPath, [cli, 'demo', town, '--json'], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (r.status !== 0) process.exit(r.status ?? 1);
  const demo = JSON.parse(r.stdout);
  console.log(`created the demo town in ${demo.townDir}: rig "sample", convoy ${demo.convoy} (staged) with ${demo.beads.length} beads`);
}
// From any shell: `town` is on PATH only if the user put it there; the full path always works.
const onPath = (process.env.PATH ?? '').split(path.delimiter).some((d) => d && fs.existsSync(path.join(d, 'town')) && fs.realpathSync(path.join(d, 'town')) === fs.realpathSync(cli));
console.log('\nOpen the URL below: plan on the Board and in Convoys, press "Start convoy", watch the agents.');
console.log(`The CLI works too, in another shell:  export TOWN_DIR=${town}; ${onPath ? 'town' : cli} convoy list\n`);

const child = spawn(process.execPath, [cli, 'serve', '--town', town], { stdio: 'inherit' });
let forwarded = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    // Ctrl-C reaches the server from the terminal too, and npm passes it on again: stop once.
    if (forwarded) return;
    forwarded = true;
    // Once the terminal is gone every write fails (EIO): the stop must not crash on one.
    if (sig === 'SIGHUP') for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
    child.kill(sig);
  });
}
child.on('exit', (code, signal) => process.exit(code ?? 128 + (os.constants.signals[signal] ?? 1)));
