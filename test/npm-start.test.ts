// `npm start` in a terminal: Ctrl-C, SIGINT/SIGTERM/SIGHUP sent to the npm process, or the
// terminal closing, stops the served demo town cleanly (its agents' sessions stopped, the town
// closed) and leaves no process of its tree behind; a second Ctrl-C during a slow stop forces
// it; what it prints names commands the user can run. Real npm, real PTY.
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import * as pty from 'node-pty';
import { afterEach, describe, expect, it } from 'vitest';
import { SAME_PRESS_MS } from '../src/cli/stop-signals';
import { cmdline, leftRunning, running, treeOf } from './helpers/proc-tree';
import { makeRepo } from './helpers/repo';
import { overseerEnv, removeTempDirs, ROOT, tempDir, townJson, waitFor } from './helpers/town';

interface Started {
  pid: number;
  output: () => string;
  exited: () => boolean;
  ctrlC: () => void;
  /** The terminal closes (a PTY only): the kernel hangs it up and sends SIGHUP. */
  close: () => void;
  kill: () => void;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  removeTempDirs();
});

function npmStart(how: 'pty' | 'child', env: Record<string, string>): Started {
  if (how === 'pty') {
    const p = pty.spawn('npm', ['start'], { cwd: ROOT, env, cols: 160, rows: 40 });
    let out = '';
    let done = false;
    p.onData((d) => (out += d));
    p.onExit(() => (done = true));
    // (node-pty's UnixTerminal has destroy(): close the master, then SIGHUP; its typings omit it.)
    const close = () => (p as pty.IPty & { destroy(): void }).destroy();
    return { pid: p.pid, output: () => out, exited: () => done, ctrlC: () => p.write('\x03'), close, kill: () => p.kill('SIGKILL') };
  }
  const c = spawn('npm', ['start'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  c.stdout.on('data', (d) => (out += d));
  c.stderr.on('data', (d) => (out += d));
  return { pid: c.pid!, output: () => out, exited: () => c.exitCode !== null || c.signalCode !== null, ctrlC: () => {}, close: () => {}, kill: () => c.kill('SIGKILL') };
}

const CASES: ['pty' | 'child', 'Ctrl-C' | 'SIGINT' | 'SIGTERM'][] = [
  ['pty', 'Ctrl-C'],
  ['pty', 'SIGINT'],
  ['pty', 'SIGTERM'],
  ['child', 'SIGINT'],
  ['child', 'SIGTERM'],
];

/** `npm start` serving the demo town, its convoy started: agents at work, the whole tree recorded. */
async function servingWithAgents(how: 'pty' | 'child') {
  const base = tempDir('npm-start');
  const town = path.join(base, 'town');
  const home = path.join(base, 'home');
  fs.mkdirSync(home);
  const env = overseerEnv({
    // Its tokens in the tests' OVERSEER_HOME (a temp dir), where the CLI calls below look.
    OVERSEER_TOWN: town, HOME: home,
    // Agents that keep working until stopped, and no npm notices in the output.
    TOWN_SCRIPTED_PACE_MS: '60000', npm_config_update_notifier: 'false',
  });
  const npm = npmStart(how, env);
  const started = { base, town, npm, tree: new Map<number, string>() };
  cleanups.push(() => {
    npm.kill();
    for (const pid of started.tree.keys()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  });
  await waitFor('npm start to serve', () => npm.output().includes('stop with Ctrl-C') || npm.exited(), 180_000);
  expect(npm.exited(), npm.output()).toBe(false);

  // Agents at work: the demo convoy started from another shell.
  const convoy = (await townJson(town, 'convoy', 'list')).find((c: any) => c.status === 'staged');
  await townJson(town, 'convoy', 'start', convoy.id);
  await waitFor('agents at work', async () => (await townJson(town, 'agents')).filter((a: any) => a.pid && a.status === 'working').length >= 2);
  started.tree = treeOf(npm.pid);
  const agentPids = [...started.tree.keys()].filter((pid) => cmdline(pid).includes('scripted-agent'));
  expect(agentPids.length, [...started.tree.keys()].map(cmdline).join('\n')).toBeGreaterThanOrEqual(2);
  return started;
}

async function expectTreeGone(tree: Map<number, string>, what: string, output: string) {
  await waitFor('every process of its tree to be gone', () => [...tree].every(([pid, start]) => !running(pid, start)), 5_000, 20).catch(() => {
    throw new Error(`left running after ${what}:\n${leftRunning(tree).join('\n')}\n--- output ---\n${output}`);
  });
}

describe('npm start', () => {
  it.each(CASES)('in a %s, %s stops the town cleanly and leaves nothing running', async (how, stop) => {
    const { town, npm, tree } = await servingWithAgents(how);
    if (stop === 'Ctrl-C') npm.ctrlC();
    else process.kill(npm.pid, stop);
    await waitFor(`npm to exit after ${stop}`, () => npm.exited(), 20_000, 20);
    await expectTreeGone(tree, stop, npm.output());

    // The server stopped its sessions and closed the town (a killed one leaves its lock).
    const out = npm.output();
    expect(out).toContain(`${stop === 'Ctrl-C' ? 'SIGINT' : stop}: stopping sessions and closing the town`);
    expect(fs.existsSync(path.join(town, 'town.lock')), out).toBe(false);
    const agents: any[] = await townJson(town, 'agents');
    expect(agents.filter((a) => a.status === 'working'), out).toEqual([]);

    // Hints a user can follow: nothing says to start what is already serving, and the CLI
    // is named as it runs from another shell (it is not on PATH here).
    expect(out).not.toMatch(/start it:|\bserve\b.*\n.*then:/);
    expect(out).toContain(`created the demo town in ${town}`);
    expect(out).toContain(`export TOWN_DIR=${town}; ${path.join(ROOT, 'bin', 'town.cjs')} convoy list`);
    expect(out).not.toMatch(/(^|[\s;:])town (--town|convoy|serve)/m);
  });

  it.each(['the terminal closes', 'SIGHUP to npm'] as const)('in a pty, when %s, stops the town cleanly and leaves nothing running', async (hangup) => {
    const { town, npm, tree } = await servingWithAgents('pty');
    if (hangup === 'SIGHUP to npm') process.kill(npm.pid, 'SIGHUP');
    else npm.close();
    await waitFor(`npm to exit after ${hangup}`, () => npm.exited(), 20_000, 20);
    await expectTreeGone(tree, hangup, npm.output());
    expect(fs.existsSync(path.join(town, 'town.lock')), npm.output()).toBe(false);
    const agents: any[] = await townJson(town, 'agents');
    expect(agents.filter((a) => a.status === 'working'), npm.output()).toEqual([]);
  });

  it('when the launcher is killed outright, the server stops the town by itself and leaves nothing running', async () => {
    const { town, npm, tree } = await servingWithAgents('child');
    const launcher = [...tree.keys()].find((pid) => cmdline(pid).includes('scripts/start.mjs'));
    expect(launcher, [...tree.keys()].map(cmdline).join('\n')).toBeDefined();
    process.kill(launcher!, 'SIGKILL');
    await expectTreeGone(tree, 'SIGKILL to the launcher', npm.output());
    expect(npm.output()).toContain('the launcher is gone: stopping sessions and closing the town');
    expect(fs.existsSync(path.join(town, 'town.lock')), npm.output()).toBe(false);
    const agents: any[] = await townJson(town, 'agents');
    expect(agents.filter((a) => a.status === 'working'), npm.output()).toEqual([]);
  });

  it('in a pty, a second Ctrl-C during a slow graceful stop kills the server\'s tree at once', async () => {
    const { base, town, npm } = await servingWithAgents('pty');
    // An agent that shrugs off SIGTERM and SIGHUP: the graceful stop waits out its grace period.
    await townJson(town, 'rig', 'add', 'stubborn', makeRepo(path.join(base, 'repo-stubborn')), '--prefix', 'sb', '--runtime', 'shell', '--command', `trap '' TERM HUP; echo stubborn at work; exec sleep 600`);
    const bead = (await townJson(town, 'bead', 'create', '--rig', 'stubborn', '--title', 'Work that ignores SIGTERM')).id;
    await townJson(town, 'sling', bead);
    await waitFor('the stubborn agent at work', async () => (await townJson(town, 'agents')).some((a: any) => a.rig === 'stubborn' && a.pid && a.status === 'working'));
    const tree = treeOf(npm.pid);
    expect(leftRunning(tree).filter((l) => l.includes('sleep 600'))).toHaveLength(1);

    npm.ctrlC();
    await waitFor('the graceful stop to begin', () => npm.output().includes('press Ctrl-C again to force it'), 10_000, 20);
    // A press of its own, not the first one arriving twice (from the terminal and from npm).
    await new Promise((r) => setTimeout(r, SAME_PRESS_MS + 100));
    npm.ctrlC();
    await waitFor('npm to exit after the second Ctrl-C', () => npm.exited(), 20_000, 20);
    await expectTreeGone(tree, 'the forced stop', npm.output());
    const out = npm.output();
    expect(out.match(/Stopping the town gracefully.*press Ctrl-C again to force it/g), out).toHaveLength(1);
    expect(out.match(/Stopping now: forced stop, killing the town server and its \d+ processes/g), out).toHaveLength(1);
    // The server's own forced stop ran: it closed the town and released its lock.
    expect(out).toMatch(/Forced stop: killing \d+ processes of this town/);
    expect(fs.existsSync(path.join(town, 'town.lock')), out).toBe(false);
    // Forced, not finished: nobody recorded the stubborn agent's end; the next start recovers it.
    const agents: any[] = await townJson(town, 'agents');
    expect(agents.filter((a) => a.status === 'working').map((a) => a.rig), out).toContain('stubborn');
  });
});
