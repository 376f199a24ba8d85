// The town directory on disk: the lock (a zombie holder counts as gone), modes (the town
// is private to its user), the overseer's token (kept outside the town dir), the shim.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SocketClient } from '../src/main/control/socket-client';
import { acquireLock, overseerHome, TownLockedError, townPaths } from '../src/main/engine/town-dir';
import { processStartTime } from '../src/main/sessions/process-tree';
import { makeRepo } from './helpers/repo';
import { removeTempDirs, ServedTown, tempDir, town, townJson, waitFor } from './helpers/town';

const served: ServedTown[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const s of served.splice(0)) await s.stop();
  for (const c of children.splice(0)) c.kill('SIGKILL');
});
afterAll(() => removeTempDirs());

const mode = (file: string) => fs.statSync(file).mode & 0o777;
const procState = (pid: number) => {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return null;
  }
};

/** A real zombie: a child that exits while its parent (`sleep`, which never waits) lives on. */
async function zombie(): Promise<number> {
  const parent = spawn('/bin/sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 60'], { stdio: ['ignore', 'pipe', 'ignore'] });
  children.push(parent);
  let out = '';
  parent.stdout!.on('data', (d) => (out += d));
  const pid = await waitFor('the child pid', () => Number(out.trim()) || null, 10_000, 10);
  await waitFor('the child to be a zombie', () => procState(pid) === 'Z', 10_000, 10);
  return pid;
}

async function newTown(label: string) {
  const base = tempDir(label);
  const dir = path.join(base, 'town');
  expect((await town(dir, ['init', dir])).code).toBe(0);
  return { base, dir };
}

describe('the town lock', () => {
  it('is taken over from a zombie holder (killed, not yet reaped)', async () => {
    const dir = tempDir('lock');
    const p = townPaths(dir);
    const pid = await zombie();
    fs.writeFileSync(p.lock, JSON.stringify({ pid, start: processStartTime(pid) }));
    const release = acquireLock(p);
    expect(JSON.parse(fs.readFileSync(p.lock, 'utf8')).pid).toBe(process.pid);
    release();
  });

  it('is still refused while its holder runs', async () => {
    const dir = tempDir('lock');
    const p = townPaths(dir);
    const holder = spawn('sleep', ['60']);
    children.push(holder);
    await waitFor('the holder to start', () => processStartTime(holder.pid!), 10_000, 10);
    fs.writeFileSync(p.lock, JSON.stringify({ pid: holder.pid, start: processStartTime(holder.pid!) }));
    expect(() => acquireLock(p)).toThrow(TownLockedError);
  });
});

describe('town directory modes', () => {
  it('town init tightens an existing directory other users could read, and says so', async () => {
    const dir = path.join(tempDir('modes'), 'town');
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    const r = await town(dir, ['init', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`tightened ${dir} to 0700 (was 0755)`);
    expect(mode(dir)).toBe(0o700);
  });

  it('opening an existing town tightens it and its logs, worktrees, refinery and bin', async () => {
    const { dir } = await newTown('modes');
    const p = townPaths(dir);
    for (const d of [p.dir, p.logs, p.worktrees, p.refinery, p.bin]) fs.chmodSync(d, 0o755);
    const s = new ServedTown(dir);
    served.push(s);
    await s.start();
    expect(s.log).toContain(`tightened ${dir} to 0700 (was 0755)`);
    expect(s.log).toContain(`tightened ${p.worktrees} to 0700 (was 0755)`);
    for (const d of [p.dir, p.logs, p.worktrees, p.refinery]) expect(mode(d)).toBe(0o700);
    expect(mode(p.bin) & 0o077).toBe(0);
  });
});

describe("the overseer's token", () => {
  it('lives in the per-user state dir (0600 in a 0700 dir), nowhere under the town', async () => {
    const { dir } = await newTown('token');
    const p = townPaths(dir);
    expect(p.token.startsWith(overseerHome() + path.sep)).toBe(true);
    expect(mode(p.token)).toBe(0o600);
    expect(mode(path.dirname(p.token))).toBe(0o700);
    const token = fs.readFileSync(p.token, 'utf8').trim();
    const underTown = fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    for (const e of underTown) expect(fs.readFileSync(path.join(e.parentPath, e.name)).includes(token)).toBe(false);
  });

  it('is moved out of a town that kept it in overseer.token, and still opens the socket', async () => {
    const { dir } = await newTown('legacy');
    const p = townPaths(dir);
    const legacy = path.join(dir, 'overseer.token');
    fs.rmSync(p.token);
    fs.writeFileSync(legacy, 'legacy-token-value\n', { mode: 0o600 });
    // Any overseer command migrates it (here, offline: no engine runs).
    expect((await townJson(dir, 'bead', 'list')).length).toBe(0);
    expect(fs.existsSync(legacy)).toBe(false);
    expect(fs.readFileSync(p.token, 'utf8').trim()).toBe('legacy-token-value');
    const s = new ServedTown(dir);
    served.push(s);
    await s.start();
    const client = new SocketClient(p.socket, 'legacy-token-value');
    try {
      expect(await client.call('bead.list', {})).toEqual([]);
    } finally {
      client.close();
    }
  });
});

describe("a CLI that cannot see the serving engine's token", () => {
  it('says so, and never writes a second token beside the one the engine uses', async () => {
    const { dir } = await newTown('elsewhere');
    const s = new ServedTown(dir);
    served.push(s);
    await s.start();
    const otherHome = tempDir('other-home');
    const r = await town(dir, ['bead', 'list'], { OVERSEER_HOME: otherHome });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cannot read the overseer token/);
    expect(fs.readdirSync(otherHome, { recursive: true }).filter((f) => String(f).endsWith('.token'))).toEqual([]);
    // The engine still answers its own token.
    expect(await townJson(dir, 'bead', 'list')).toEqual([]);
  });
});

describe('the town shim', () => {
  it('is read-only (file and bin/) while the town is served, and writable again after', async () => {
    const base = tempDir('shim');
    const dir = path.join(base, 'town');
    await town(dir, ['init', dir]);
    await townJson(dir, 'rig', 'add', 'app', makeRepo(path.join(base, 'repo')), '--prefix', 'ap');
    const p = townPaths(dir);
    const shim = path.join(p.bin, 'town');
    const s = new ServedTown(dir);
    served.push(s);
    await s.start();
    expect(mode(shim)).toBe(0o500);
    expect(mode(p.bin)).toBe(0o500);
    expect(fs.readFileSync(shim, 'utf8')).not.toContain(fs.readFileSync(p.token, 'utf8').trim());
    await s.stop();
    // Stopped, the town is removable again without chmod.
    expect(mode(p.bin)).toBe(0o700);
    expect(mode(shim)).toBe(0o700);
  });
});
