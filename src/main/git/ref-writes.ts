// Ref writes of one repository, one at a time. Deleting a freed branch beside the rig's
// starts made them fail (test/ref-writes reproduces each): a start listed a branch and then
// found it gone at its checkout; another read a polecat's branch as earlier work and found
// it gone at its `git log`; and a branch deleted just as a worktree switched onto it left
// that worktree on an unborn branch, where every later start failed. Every change to a
// rig's branches or worktrees that can meet a start goes through here: the start's branch
// listing, stash and checkout, branch and backup-ref deletion, worktree removal.
import path from 'node:path';

const tails = new Map<string, Promise<unknown>>();

/**
 * Runs `work` once every earlier ref write of `repo` has settled (first come, first
 * served), and before any later one. A failed write does not hold up the ones queued after it.
 */
export function withRefWrites<T>(repo: string, work: () => Promise<T>): Promise<T> {
  const key = path.resolve(repo);
  const before = tails.get(key) ?? Promise.resolve();
  const run = before.then(work);
  const tail = run.catch(() => undefined);
  tails.set(key, tail);
  // The last one out leaves no entry behind: the map holds only repos with writes under way.
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return run;
}

