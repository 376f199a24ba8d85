// A graceful stop while an agent is still starting (its worktree's setup runs): the start is
// cut off, and the store says so before the engine exits — the bead is back to open with its
// attempt refunded and the polecat idle, not left `in_progress` on a start that will never
// report. Real engine, real CLI, real PTYs.
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { agentProcessesOf, removeTempDirs, ServedTown, tempDir, town, townDiagnosis, townJson, waitFor } from './helpers/town';
import { makeRepo } from './helpers/repo';

const served: ServedTown[] = [];
afterEach(async () => {
  for (const s of served.splice(0)) await s.stop();
  removeTempDirs();
});

/** Still running when the stop comes, however slow the machine: it waits for `go`. */
const waitForGo = (mark: string) => `touch ${mark}/started; while [ ! -f ${mark}/go ]; do sleep 0.1; done`;

describe.runIf(process.platform === 'linux')('stopping the engine while an agent starts', () => {
  it('puts the bead back to open with its attempt refunded; the restart starts it again', async () => {
    const base = tempDir('stop-start');
    const mark = tempDir('stop-start-mark');
    const dir = path.join(base, 'town');
    makeRepo(path.join(base, 'repo'));
    expect((await town(dir, ['init', dir])).code).toBe(0);
    await townJson(dir, 'rig', 'add', 'app', path.join(base, 'repo'), '--test', 'sh check.sh', '--setup', waitForGo(mark), '--prefix', 'ap');
    const bead = await townJson(dir, 'bead', 'create', '--rig', 'app', '--title', 'Behind a slow setup');
    const first = new ServedTown(dir);
    served.push(first);
    await first.start();
    await townJson(dir, 'sling', bead.id);
    await waitFor('the setup running', () => fs.existsSync(path.join(mark, 'started')), 60_000);

    expect(await first.stop()).toBe(0);
    served.splice(served.indexOf(first), 1);
    expect(agentProcessesOf(dir)).toEqual([]);
    const after = await townJson(dir, 'bead', 'show', bead.id);
    expect(after.status).toBe('open');
    expect(after.assignee).toBeNull();
    expect(after.dispatch_attempts).toBe(0);
    const polecats = (await townJson(dir, 'agents')).filter((a: any) => a.role === 'polecat');
    expect(polecats.map((a: any) => [a.status, a.hook])).toEqual([['idle', null]]);

    fs.writeFileSync(path.join(mark, 'go'), '');
    const again = new ServedTown(dir);
    served.push(again);
    await again.start(); // still slung: dispatched again by itself
    await waitFor('the bead to merge after the restart', async () => (await townJson(dir, 'bead', 'show', bead.id)).status === 'closed', 60_000, 200).catch(async (err) => {
      throw new Error(`${(err as Error).message}\n${await townDiagnosis(dir)}\n${again.log.slice(-3000)}`);
    });
  }, 120_000);
});
