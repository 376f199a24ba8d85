// E-stop and thaw with a real engine, real PTYs and the real CLI: a flooding agent's
// output stops while the town is frozen and resumes after the thaw; a ready bead is not
// dispatched while frozen and is after.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SocketClient } from '../src/main/control/socket-client';
import { overseerToken, removeTempDirs, ServedTown, tempDir, town, townDiagnosis, townJson, waitFor } from './helpers/town';
import { makeRepo } from './helpers/repo';

const served: ServedTown[] = [];
afterEach(async () => {
  for (const s of served.splice(0)) await s.stop();
  removeTempDirs();
});

// A flood that outlasts the test (the engine stops it at the end); the log rotates at 8 MB.
const ENDLESS_FLOOD = { TOWN_SCRIPTED_PACE_MS: '15', TOWN_SCRIPTED_FLOOD_BYTES: String(4 * 1024 ** 3) };

async function servedTown() {
  const base = tempDir('estop');
  const dir = path.join(base, 'town');
  const repo = makeRepo(path.join(base, 'repo'));
  expect((await town(dir, ['init', dir])).code).toBe(0);
  await townJson(dir, 'rig', 'add', 'app', repo, '--test', 'sh check.sh', '--max-polecats', '3', '--prefix', 'ap');
  const s = new ServedTown(dir, ENDLESS_FLOOD);
  served.push(s);
  await s.start();
  return dir;
}

async function setGates(dir: string, gates: { name: string; command: string; timeout_s: number }[]) {
  const client = new SocketClient(path.join(dir, 'town.sock'), overseerToken(dir));
  try {
    await client.call('rig.update', { name: 'app', gates });
  } finally {
    client.close();
  }
}

/** The number of the last flood chunk in the session's log (the log rotates, the count only grows). */
function lastFloodChunk(dir: string, session: string): number {
  const file = path.join(dir, 'logs', `${session}.log`);
  let text = '';
  for (const f of [`${file}.1`, file]) {
    if (!fs.existsSync(f)) continue;
    const size = fs.statSync(f).size;
    const fd = fs.openSync(f, 'r');
    const buf = Buffer.alloc(Math.min(size, 256 * 1024));
    fs.readSync(fd, buf, 0, buf.length, size - buf.length);
    fs.closeSync(fd);
    text += buf.toString('utf8');
  }
  // eslint-disable-next-line no-control-regex
  const plain = text.replace(/\x1b\[[0-9;]*m/g, '');
  let last = -1;
  for (const m of plain.matchAll(/(\d{6}) \[flood\]/g)) last = Math.max(last, Number(m[1]));
  return last;
}

async function afterTicks(dir: string, n: number) {
  const start = (await townJson(dir, 'status')).reconciler.ticks;
  await waitFor(`${n} reconciler ticks`, async () => (await townJson(dir, 'status')).reconciler.ticks >= start + n, 30_000, 100);
}

const events = (dir: string): Promise<any[]> => townJson(dir, 'events', '--limit', '10000');
const spawnsOf = async (dir: string, bead: string) => (await events(dir)).filter((e) => e.type === 'session.spawned' && e.bead === bead);
const procState = (pid: number) => fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0];

describe.runIf(process.platform === 'linux')('e-stop and thaw', () => {
  it('freezes a flooding agent and holds back dispatch; the thaw resumes both', async () => {
    const dir = await servedTown();
    const flood = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Floods', '--scenario', 'flood');
    await townJson(dir, 'sling', flood.id);
    const agent = await waitFor('the flood agent working', async () =>
      ((await townJson(dir, 'agents')) as any[]).find((a) => a.hook === flood.id && a.status === 'working' && a.session),
    );
    await waitFor('the flood under way', () => lastFloodChunk(dir, agent.session) >= 0);
    const [spawned] = await spawnsOf(dir, flood.id);
    const pid: number = spawned.payload.pid;

    const estop = await town(dir, ['estop', '--reason', 'checking something']);
    expect(estop.stderr).toBe('');
    expect(estop.code).toBe(0);
    expect(estop.stdout).toMatch(/town frozen: dispatch paused, 1 session\(s\) stopped/);
    const status = await townJson(dir, 'status');
    expect(status.frozen).toMatchObject({ reason: 'checking something' });
    expect(procState(pid)).toBe('T');

    // Frozen: the log stops growing, and a ready bead waits.
    const ready = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Ready while frozen');
    await townJson(dir, 'sling', ready.id);
    const frozenAt = lastFloodChunk(dir, agent.session);
    await afterTicks(dir, 3);
    expect(lastFloodChunk(dir, agent.session)).toBe(frozenAt);
    expect(await spawnsOf(dir, ready.id)).toEqual([]);
    expect((await town(dir, ['status'])).stdout).toMatch(/FROZEN since .*: checking something/);
    // Not "waiting" either: it is stopped, not reading its terminal.
    expect(((await townJson(dir, 'agents')) as any[]).find((a) => a.id === agent.id).status).toBe('working');

    const thaw = await town(dir, ['thaw']);
    expect(thaw.code).toBe(0);
    expect(thaw.stdout).toMatch(/town thawed: 1 session\(s\) continued/);
    expect((await townJson(dir, 'status')).frozen).toBeNull();
    await waitFor('the flood to go on', () => lastFloodChunk(dir, agent.session) > frozenAt);
    await waitFor('the ready bead dispatched', async () => (await spawnsOf(dir, ready.id)).length === 1);
    const types = (await events(dir)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['town.frozen', 'town.thawed']));
  }, 120_000);

  it('stays frozen across an engine restart until thawed', async () => {
    const dir = await servedTown();
    expect((await town(dir, ['estop'])).code).toBe(0);
    await served.shift()!.stop();
    const again = new ServedTown(dir, ENDLESS_FLOOD);
    served.push(again);
    await again.start();
    expect((await townJson(dir, 'status')).frozen).toMatchObject({ reason: 'e-stop by overseer' });
    const ready = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'After the restart');
    await townJson(dir, 'sling', ready.id);
    await afterTicks(dir, 3);
    expect(await spawnsOf(dir, ready.id)).toEqual([]);
    expect((await town(dir, ['thaw'])).code).toBe(0);
    await waitFor('the bead dispatched after the thaw', async () => (await spawnsOf(dir, ready.id)).length === 1);
    const twice = await town(dir, ['thaw']);
    expect(twice.code).not.toBe(0);
    expect(twice.stderr).toMatch(/not frozen/);
  }, 120_000);

  it('freezes a running merge gate too, and its timeout does not count the frozen time', async () => {
    const dir = await servedTown();
    const mark = tempDir('gate-mark');
    // The gate waits for a file; frozen, it cannot see it arrive.
    await setGates(dir, [{ name: 'test', command: `touch ${mark}/started; while [ ! -f ${mark}/go ]; do sleep 0.1; done`, timeout_s: 5 }]);
    const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Through a slow gate');
    await townJson(dir, 'sling', bead.id);
    await waitFor('the gate running', () => fs.existsSync(path.join(mark, 'started')), 60_000);
    const estop = await town(dir, ['estop']);
    expect(estop.code).toBe(0);
    fs.writeFileSync(path.join(mark, 'go'), '');
    await afterTicks(dir, 8); // well past the gate's 5 s timeout, all of it frozen
    expect((await townJson(dir, 'bead', 'show', bead.id)).status).toBe('in_review');
    expect(((await townJson(dir, 'mr', 'list')) as any[])[0].state).toBe('testing');

    expect((await town(dir, ['thaw'])).code).toBe(0);
    await waitFor('the bead merged after the thaw', async () => (await townJson(dir, 'bead', 'show', bead.id)).status === 'closed', 60_000, 200).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}`);
    });
  }, 120_000);
});
