// Starts on one rig while the branches they free are deleted beside them, as the engine
// does (the deletion is fired after the start, not awaited). A polecat that goes back to a
// bead whose branch is being deleted once listed that branch, saw it deleted, and failed to
// check it out; git/ref-writes takes such writes in turn.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { deleteBranchIfMerged, polecatBranches } from '../src/main/git/branches';
import { git } from '../src/main/git/git-cli';
import { withRefWrites } from '../src/main/git/ref-writes';
import { preparePolecatWorktree } from '../src/main/git/worktrees';
import { gitIn, makeRepo } from './helpers/repo';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function tempRig(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ov-refw-'));
  dirs.push(dir);
  return makeRepo(path.join(dir, 'rig'));
}

describe('ref writes of a rig', () => {
  it('starts never fail while the branches they freed are deleted beside them', async () => {
    const rig = tempRig();
    const agents = ['a1', 'a2', 'a3'];
    const worktree = (a: string) => path.join(path.dirname(rig), 'wt', a);
    const start = (a: string, bead: string) =>
      preparePolecatWorktree({ rigPath: rig, defaultBranch: 'main', worktree: worktree(a), branch: `polecat/${a}/${bead}`, setupCommand: null });
    for (const a of agents) await start(a, 'y');
    gitIn(rig, 'pack-refs', '--all'); // deletions then rewrite packed-refs too

    const failures: string[] = [];
    const deletions: Promise<unknown>[] = [];
    // Each polecat goes back and forth between two beads (a bead handed back and taken again),
    // all of them at once; every start deletes the branch it freed without waiting, as
    // TownEffects does once the session has spawned.
    await Promise.all(
      agents.map(async (a) => {
        for (let round = 0; round < 16; round++) {
          const bead = round % 2 === 0 ? 'x' : 'y';
          try {
            const wt = await start(a, bead);
            if (wt.freedBranch) deletions.push(deleteBranchIfMerged(rig, wt.freedBranch, 'main').catch((e) => failures.push(`delete: ${(e as Error).message}`)));
          } catch (err) {
            failures.push(`${a} → ${bead}: ${(err as Error).message}`);
          }
        }
      }),
    );
    await Promise.all(deletions);

    expect(failures).toEqual([]);
    for (const a of agents) expect((await git(worktree(a), ['symbolic-ref', '--short', 'HEAD'])).trim()).toBe(`polecat/${a}/y`);
    // The freed branches (merged: they hold nothing main lacks) are gone; the held ones stay.
    expect((await polecatBranches(rig)).sort()).toEqual(agents.map((a) => `polecat/${a}/y`));
  });

  it('takes the writes of one rig in turn, and a failed one does not hold up the next', async () => {
    const order: string[] = [];
    const slow = withRefWrites('/rig-a', async () => {
      order.push('first begins');
      await new Promise((r) => setTimeout(r, 30));
      order.push('first ends');
      throw new Error('first failed');
    });
    const second = withRefWrites('/rig-a', async () => void order.push('second'));
    const other = withRefWrites('/rig-b', async () => void order.push('other rig'));
    await expect(slow).rejects.toThrow('first failed');
    await second;
    await other;
    expect(order).toEqual(['first begins', 'other rig', 'first ends', 'second']);
  });
});
