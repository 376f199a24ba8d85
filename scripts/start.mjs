// `npm start`: the demo town served with its UI in the browser (`town serve`). The
// town lives in $OVERSEER_TOWN or ~/.overseer/demo-town and is created on first run.
// The desktop window is `npm run app` (it needs Electron's binary, fetched on first use).
//
// Stopping: package.json runs this with `exec`, so npm's forwarded SIGINT/SIGTERM reach this
// process (a shell between would swallow SIGINT and die of SIGTERM, leaving the server
// running). The first of SIGINT, SIGTERM or SIGHUP (the terminal closed) is passed on to the
// server once; it stops its sessions and closes the town, and this process exits as it did.
// A second Ctrl-C while that runs is passed on too: the server forces its stop (killing its
// tree, closing the town, releasing the lock); a server that has not exited 3 s later is
// killed with its whole tree from here. If this process dies (even SIGKILLed), the server
// hears its IPC channel close and stops gracefully.
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

// Once the terminal is gone every write fails (EIO), reported as an 'error' event on the
// stream (no try/catch around a write sees it); unheard it would crash this process mid-stop.
for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});

// In a process group of its own: the terminal's signals reach npm and this process, and only
// this process passes them on, so the server hears each press once and a forced stop can
// take its whole group. The IPC channel tells the server when this process is gone.
const child = spawn(process.execPath, [cli, 'serve', '--town', town], { stdio: ['inherit', 'inherit', 'inherit', 'ipc'], detached: true });
// One Ctrl-C reaches this process twice, a few ms apart (from the terminal and again from
// npm): signals this close to the first are that same press (as src/cli/stop-signals.ts).
const SAME_PRESS_MS = 500;
/** How long the server's own forced stop may take before this process kills its tree. */
const FORCED_STOP_MS = 3000;
let firstAt = null;
let forced = false;
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (firstAt === null) {
      firstAt = Date.now();
      if (sig === 'SIGINT') console.log('\nStopping the town gracefully (its agents stopped, the town closed); press Ctrl-C again to force it.');
      child.kill(sig);
      return;
    }
    if (sig !== 'SIGINT' || forced || Date.now() - firstAt < SAME_PRESS_MS) return;
    forced = true;
    const pids = descendantsOf(child.pid);
    console.log(`Stopping now: forced stop, killing the town server and its ${pids.length} processes (the next start recovers the town).`);
    // The server's own forced stop also closes the town's database and releases its lock.
    child.kill('SIGINT');
    setTimeout(() => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killAll([child.pid, ...descendantsOf(child.pid)]);
    }, FORCED_STOP_MS).unref();
  });
}

/** SIGKILL for each, and for the group each leads (the server's and each agent's). */
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

/**
 * Every running process below `root` (as src/main/sessions/process-tree.ts): from /proc, else
 * from `ps`, else none; zombies are gone already.
 */
function descendantsOf(root) {
  const links = [];
  try {
    for (const entry of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
        const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (state !== 'Z' && state !== 'X') links.push([Number(entry), Number(ppid)]);
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    try {
      const out = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      for (const row of out.trim().split('\n')) links.push(row.trim().split(/\s+/).map(Number));
    } catch {
      // neither: the group kill still takes the server and what stayed in its group
    }
  }
  const children = new Map();
  for (const [pid, ppid] of links) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const out = [];
  for (let queue = [...(children.get(root) ?? [])], i = 0; i < queue.length; i++) {
    out.push(queue[i]);
    queue.push(...(children.get(queue[i]) ?? []));
  }
  return out;
}
child.on('exit', (code, signal) => process.exit(code ?? 128 + (os.constants.signals[signal] ?? 1)));
