// `npm start`: the demo town served with its UI in the browser (`town serve`). The
// town lives in $OVERSEER_TOWN or ~/.overseer/demo-town and is created on first run.
// The desktop window is `npm run app` (it needs Electron's binary, fetched on first use).
//
// Stopping: package.json runs this with `exec`, so npm's forwarded SIGINT/SIGTERM reach this
// process (a shell between would swallow SIGINT and die of SIGTERM, leaving the server
// running). The first of SIGINT, SIGTERM or SIGHUP (the terminal closed) is passed on to the
// server once; it stops its sessions and closes the town, and this process exits as it did.
// A second Ctrl-C while that runs kills the server's whole process tree at once.
import { execFileSync, spawnSync, spawn } from 'node:child_process';
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

// In a process group of its own: the terminal's signals reach npm and this process, and only
// this process passes them on, so the server hears each press once and a forced stop can
// take its whole group.
const child = spawn(process.execPath, [cli, 'serve', '--town', town], { stdio: 'inherit', detached: true });
// One Ctrl-C reaches this process twice, a few ms apart (from the terminal and again from
// npm): signals this close to the first are that same press (as src/cli/stop-signals.ts).
const SAME_PRESS_MS = 500;
let firstAt = null;
let forced = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (firstAt === null) {
      firstAt = Date.now();
      if (sig === 'SIGHUP') tolerateClosedTerminal();
      else if (sig === 'SIGINT') say('\nStopping the town gracefully (its agents stopped, the town closed); press Ctrl-C again to force it.');
      child.kill(sig);
      return;
    }
    if (sig !== 'SIGINT' || forced || Date.now() - firstAt < SAME_PRESS_MS) return;
    forced = true;
    const pids = [child.pid, ...descendantsOf(child.pid)];
    say(`Stopping now: forced stop, killing the town server and its ${pids.length - 1} processes (the next start recovers the town).`);
    killAll(pids);
  });
}

/** Once the terminal is gone every write fails (EIO); the stop must not crash on one. */
function tolerateClosedTerminal() {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
}
function say(text) {
  try {
    console.log(text);
  } catch {
    // the terminal is gone
  }
}

/** Every process below `root`, parents first (as src/cli/force-stop.ts; `ps` is on Linux and macOS). */
function descendantsOf(root) {
  const children = new Map();
  for (const row of execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' }).split('\n')) {
    const [pid, ppid] = row.trim().split(/\s+/).map(Number);
    if (pid) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out = [];
  for (let queue = [...(children.get(root) ?? [])], i = 0; i < queue.length; i++) {
    out.push(queue[i]);
    queue.push(...(children.get(queue[i]) ?? []));
  }
  return out;
}

/** SIGKILL for each, and for the group each leads (agents run in groups of their own). */
function killAll(pids) {
  for (const pid of pids) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // not a group leader, or gone already
      }
    }
  }
}
child.on('exit', (code, signal) => process.exit(code ?? 128 + (os.constants.signals[signal] ?? 1)));
