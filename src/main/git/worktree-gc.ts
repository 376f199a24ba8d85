// Removing an idle polecat's worktree, only when nothing in it would be lost: no uncommitted
// or untracked files, and no commit the rig's target lacks. Anything else is kept and
// reported (a lesson: cleanup once deleted worktrees with uncommitted work).
import fs from 'node:fs';
import path from 'node:path';
import type { BranchCommit } from './branches';
import { deleteBranchIfMerged } from './branches';
import { git } from './git-cli';
import { withRefWrites } from './ref-writes';

export type WorktreeCheck =
  | { state: 'missing' }
  | { state: 'clean'; branch: string | null }
  | { state: 'dirty'; files: string[] }
  | { state: 'unmerged'; commits: BranchCommit[] };

const MAX_LISTED = 50;

/** What removing `worktree` would lose, judged against `target` of the rig at `rigPath`. */
export async function checkWorktreeForRemoval(worktree: string, target: string): Promise<WorktreeCheck> {
  if (!fs.existsSync(path.join(worktree, '.git'))) return { state: 'missing' };
  const status = await git(worktree, ['status', '--porcelain', '--untracked-files=all', '--ignored=no']);
  const files = status.split('\n').filter(Boolean).map((l) => l.slice(3));
  if (files.length > 0) return { state: 'dirty', files: files.slice(0, MAX_LISTED) };
  const log = await git(worktree, ['log', '--format=%H %s', `refs/heads/${target}..HEAD`]);
  const commits = log.split('\n').filter(Boolean).map((l) => ({ sha: l.slice(0, 40), subject: l.slice(41) }));
  if (commits.length > 0) return { state: 'unmerged', commits: commits.slice(0, MAX_LISTED) };
  const branch = (await git(worktree, ['symbolic-ref', '--short', '-q', 'HEAD'], { allowFail: true })).trim() || null;
  return { state: 'clean', branch };
}

/**
 * Removes a worktree checked clean just now. `git worktree remove` without --force refuses
 * a dirty one by itself, so work that appeared since the check is still not lost. The
 * branch it held goes too when merged.
 */
export async function removeCleanWorktree(rigPath: string, worktree: string, branch: string | null, target: string): Promise<void> {
  await withRefWrites(rigPath, () => git(rigPath, ['worktree', 'remove', worktree]));
  if (branch) await deleteBranchIfMerged(rigPath, branch, target);
}
