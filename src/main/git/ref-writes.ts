// Ref writes of one repository, one at a time. A start lists the rig's branches and then
// checks one out; a branch deleted between the two (a freed branch going once merged) made
// that start fail. Every change to a rig's branches or worktrees that can meet a start goes
// through here: the start's worktree prep, branch deletion, worktree removal.
import path from 'node:path';

const tails = new Map<string, Promise<unknown>>();

/**
 * Runs `work` once every earlier ref write of `repo` has settled (first come, first
 * served), and before any later one. A failed write does not hold up the ones queued after it.
 */
export function withRefWrites<T>(repo: string, work: () => Promise<T>): Promise<T> {
  const key = path.resolve(repo);
  const before = tails.get(key) ?? Promise.resolve();
  const run = before.then(work, work);
  const tail = run.catch(() => undefined);
  tails.set(key, tail);
  // The last one out leaves no entry behind: the map holds only repos with writes under way.
  void tail.then(() => {
    if (tails.get(key) === tail) tails.delete(key);
  });
  return run;
}

/** Whether some ref write of `repo` is queued or running (for tests and diagnostics). */
export function refWritesPending(repo: string): boolean {
  return tails.has(path.resolve(repo));
}
