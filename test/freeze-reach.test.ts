// The e-stop reaches what a process-group signal misses: a grandchild that moved into a
// session of its own (setsid), and a rig's setup command running for a dispatch in flight.
// Real PTYs, real processes, a real git repo; each process counts into a file every 100 ms.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { preparePolecatWorktree } from '../src/main/git/worktrees';
import { descendantsOf } from '../src/main/sessions/process-tree';
import { SessionHost } from '../src/main/sessions/session-host';
import { inheritedEnv } from '../src/main/runtimes/runtimes';
import { makeRepo } from './helpers/repo';
import { removeTempDirs, tempDir, waitFor } from './helpers/town';

const hosts: SessionHost[] = [];
const strays: number[] = [];
afterEach(async () => {
  for (const pid of strays.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  for (const h of hosts.splice(0)) {
    h.thaw();
    await h.stopAll('test over');
    await h.dispose();
  }
  removeTempDirs();
});

function newHost() {
  const h = new SessionHost({ stopGraceMs: 300 });
  hosts.push(h);
  return h;
}

const procState = (pid: number) => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0];
/**
 * The process and all its descendants stopped: each in state T, or D when it is a shell
 * blocked in vfork on a child that was stopped before its exec. A stop signal lands a
 * moment after it is sent, so this waits (briefly).
 */
const stopped = (pid: number) =>
  waitFor(`process ${pid} and its descendants stopped`, () => {
    const states = [pid, ...descendantsOf([pid])].map(procState);
    return states.includes('T') && states.every((st) => st === 'T' || st === 'D');
  }, 5000, 20);
const lines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Appends a line to `file` every 100 ms, forever (or `n` times). */
const counter = (file: string, n?: number) =>
  n === undefined ? `while :; do echo x >> ${file}; sleep 0.1; done` : `i=0; while [ $i -lt ${n} ]; do echo x >> ${file}; sleep 0.1; i=$((i+1)); done`;

/** Over a second, the count does not move: the process really is stopped. */
async function expectStill(file: string) {
  const before = lines(file);
  await pause(1000);
  expect(lines(file)).toBe(before);
  return before;
}

/** A session whose shell starts a grandchild in a session (and group) of its own. */
async function sessionWithDetachedGrandchild(host: SessionHost) {
  const dir = tempDir('reach');
  const ticks = path.join(dir, 'ticks');
  const pidFile = path.join(dir, 'pid');
  // setsid execs in place (the background child leads no group), so $! is the grandchild.
  const script = `setsid sh -c '${counter(ticks)}' & echo $! > ${pidFile}; while :; do sleep 1; done`;
  host.spawn({ sessionId: 'agent-1', agentId: 'app/polecats/jade', file: '/bin/sh', args: ['-c', script], cwd: dir, env: inheritedEnv() });
  const pid = Number(await waitFor('the grandchild pid', () => fs.existsSync(pidFile) && fs.readFileSync(pidFile, 'utf8').trim()));
  strays.push(pid);
  await waitFor('the grandchild counting', () => lines(ticks) >= 2);
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const session = host.list()[0];
  expect(Number(stat[2])).not.toBe(session.pgid); // it really left the session's group
  return { ticks, pid, session };
}

describe.runIf(process.platform === 'linux')('the reach of the e-stop', () => {
  it("stops a grandchild that left its session's process group, and the thaw runs it again", async () => {
    const host = newHost();
    const g = await sessionWithDetachedGrandchild(host);
    host.freeze();
    await stopped(g.pid);
    await expectStill(g.ticks);
    host.thaw();
    expect(procState(g.pid)).not.toBe('T');
    const at = lines(g.ticks);
    await waitFor('the grandchild counting again', () => lines(g.ticks) > at);
  }, 30_000);

  it('thaws a stopped grandchild whose session ended while the town was frozen', async () => {
    const host = newHost();
    const g = await sessionWithDetachedGrandchild(host);
    host.freeze();
    await host.stop(g.session.sessionId, 'stopped while frozen');
    await stopped(g.pid); // it outlived its parent, still frozen
    host.thaw();
    const at = lines(g.ticks);
    await waitFor('the orphaned grandchild counting again', () => lines(g.ticks) > at);
  }, 30_000);

  it("freezes a rig's setup command running for a dispatch, and the thaw lets it finish", async () => {
    const host = newHost();
    const base = tempDir('reach-setup');
    const repo = makeRepo(path.join(base, 'repo'));
    const ticks = path.join(base, 'setup-ticks');
    const prepared = preparePolecatWorktree({
      rigPath: repo, defaultBranch: 'main', worktree: path.join(base, 'wt', 'jade'), branch: 'polecat/jade/ap-1',
      setupCommand: counter(ticks, 30),
      onSetupStarted: (pgid) => host.trackGroup({ label: 'setup-jade', agentId: 'app/polecats/jade', pgid }),
    });
    let finished = false;
    prepared.then(() => (finished = true), () => {});
    await waitFor('the setup counting', () => lines(ticks) >= 2);
    const [result] = host.freeze();
    expect(result).toMatchObject({ sessionId: 'setup-jade', error: null });
    await stopped(result.pgid);
    await expectStill(ticks);
    expect(finished).toBe(false);
    host.thaw();
    await prepared;
    expect(lines(ticks)).toBe(30);
  }, 30_000);

  it('stops a setup command at once when it starts in a frozen town', async () => {
    const host = newHost();
    const base = tempDir('reach-setup');
    const repo = makeRepo(path.join(base, 'repo'));
    const ticks = path.join(base, 'setup-ticks');
    host.freeze();
    let pgid = 0;
    const prepared = preparePolecatWorktree({
      rigPath: repo, defaultBranch: 'main', worktree: path.join(base, 'wt', 'jade'), branch: 'polecat/jade/ap-1',
      setupCommand: counter(ticks, 5),
      onSetupStarted: (p) => host.trackGroup({ label: 'setup-jade', agentId: 'app/polecats/jade', pgid: (pgid = p) }),
    });
    prepared.catch(() => {}); // awaited below; a failed test must not leave it unhandled
    await waitFor('the setup started', () => pgid > 0);
    await stopped(pgid);
    expect(await expectStill(ticks)).toBeLessThanOrEqual(1);
    host.thaw();
    await prepared;
    expect(lines(ticks)).toBe(5);
  }, 30_000);

  it('kills a setup command that starts after the engine began to stop', async () => {
    const host = newHost();
    const base = tempDir('reach-closing');
    const repo = makeRepo(path.join(base, 'repo'));
    const ticks = path.join(base, 'setup-ticks');
    await host.abandonWork(); // the stop came while this start was still making its worktree
    let pgid = 0;
    const prepared = preparePolecatWorktree({
      rigPath: repo, defaultBranch: 'main', worktree: path.join(base, 'wt', 'jade'), branch: 'polecat/jade/ap-1',
      setupCommand: counter(ticks, 600), // a minute, if nothing stops it
      onSetupStarted: (p) => host.trackGroup({ label: 'setup-jade', agentId: 'app/polecats/jade', pgid: (pgid = p) }),
    });
    await expect(prepared).rejects.toThrow();
    expect(pgid).toBeGreaterThan(0);
    expect(descendantsOf([pgid])).toEqual([]);
    expect(lines(ticks)).toBeLessThan(600);
  }, 30_000);
});
