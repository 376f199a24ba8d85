// Stopping the engine of a frozen town: work held by the e-stop (a gate, the refinery, a
// rig's setup command) is abandoned, not resumed and not judged, so the engine stops
// promptly; after a restart and a thaw the work is done as if the engine had been killed.
// Real engine, real CLI, real PTYs.
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

async function servedTown(rigUpdate: Record<string, unknown>) {
  const base = tempDir('estop-stop');
  const dir = path.join(base, 'town');
  const repo = makeRepo(path.join(base, 'repo'));
  expect((await town(dir, ['init', dir])).code).toBe(0);
  await townJson(dir, 'rig', 'add', 'app', repo, '--test', 'sh check.sh', '--prefix', 'ap');
  const client = new SocketClient(path.join(dir, 'town.sock'), overseerToken(dir));
  const s = new ServedTown(dir);
  served.push(s);
  await s.start();
  try {
    await client.call('rig.update', { name: 'app', ...rigUpdate });
  } finally {
    client.close();
  }
  return { dir, s };
}

async function restart(dir: string, s: ServedTown) {
  expect(await s.stop()).toBe(0);
  served.splice(served.indexOf(s), 1);
  const again = new ServedTown(dir);
  served.push(again);
  await again.start();
}

/** Still running when the e-stop comes, however slow the machine: it waits for `go`. */
const waitForGo = (mark: string) => `touch ${mark}/started; while [ ! -f ${mark}/go ]; do sleep 0.1; done`;

const status = async (dir: string, bead: string) => (await townJson(dir, 'bead', 'show', bead)).status as string;

describe.runIf(process.platform === 'linux')('stopping the engine of a frozen town', () => {
  it('abandons a frozen gate without failing its merge; after a restart and a thaw the bead merges', async () => {
    const mark = tempDir('gate-mark');
    const { dir, s } = await servedTown({ gates: [{ name: 'test', command: waitForGo(mark), timeout_s: 60 }] });
    const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Through a gate');
    await townJson(dir, 'sling', bead.id);
    await waitFor('the gate running', () => fs.existsSync(path.join(mark, 'started')), 60_000);
    expect((await town(dir, ['estop'])).code).toBe(0);
    await restart(dir, s);
    fs.writeFileSync(path.join(mark, 'go'), '');
    expect(await status(dir, bead.id)).toBe('in_review');
    expect(((await townJson(dir, 'mr', 'list')) as any[])[0].state).not.toBe('failed');
    expect((await town(dir, ['thaw'])).code).toBe(0);
    await waitFor('the bead merged after the thaw', async () => (await status(dir, bead.id)) === 'closed', 60_000, 200).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}`);
    });
  }, 120_000);

  it("abandons a frozen setup command; after a restart and a thaw the bead is done", async () => {
    const mark = tempDir('setup-mark');
    const { dir, s } = await servedTown({ setup: waitForGo(mark) });
    const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'After a slow setup');
    await townJson(dir, 'sling', bead.id);
    await waitFor('the setup running', () => fs.existsSync(path.join(mark, 'started')), 60_000);
    expect((await town(dir, ['estop'])).code).toBe(0);
    await restart(dir, s);
    fs.writeFileSync(path.join(mark, 'go'), '');
    expect((await town(dir, ['thaw'])).code).toBe(0);
    await waitFor('the bead merged after the thaw', async () => (await status(dir, bead.id)) === 'closed', 60_000, 200).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}`);
    });
  }, 120_000);
});
