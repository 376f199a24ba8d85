// Deleting refs the store has judged old enough (ref-gc.ts picks them). Every deletion is
// checked again here, at the moment it happens and in turn with the rig's other ref writes:
// a branch goes only when all its commits are on one of its safe targets and no worktree has
// it checked out; a backup ref only when it still names what the store said it would.
import { git, gitOk } from './git-cli';
import { withRefWrites } from './ref-writes';

export interface BranchToPrune {
  branch: string;
  /** Branches that must already hold every commit of `branch` (any one suffices). */
  safeIn: string[];
}

/** Branches checked out in some worktree of the repository (the main one included). */
export async function checkedOutBranches(repo: string): Promise<Set<string>> {
  const out = await git(repo, ['worktree', 'list', '--porcelain'], { allowFail: true });
  const held = new Set<string>();
  for (const line of out.split('\n')) if (line.startsWith('branch refs/heads/')) held.add(line.slice('branch refs/heads/'.length));
  return held;
}

/** Every local branch under `prefix` (e.g. `polecat/`), and every ref under a refs/ prefix. */
export async function refsUnder(repo: string, prefix: string): Promise<string[]> {
  const out = await git(repo, ['for-each-ref', '--format=%(refname)', prefix], { allowFail: true });
  return out.split('\n').filter(Boolean);
}

async function isMergedInto(repo: string, branch: string, targets: string[]): Promise<boolean> {
  for (const target of targets) {
    if (await gitOk(repo, ['merge-base', '--is-ancestor', `refs/heads/${branch}`, `refs/heads/${target}`])) return true;
  }
  return false;
}

/**
 * Deletes those of `branches` whose every commit is on a safe target and that no worktree
 * holds, judged inside the rig's ref-write queue so a start cannot check one out (or add a
 * commit to it through its worktree) between the check and the deletion. Returns the deleted.
 */
export function pruneMergedBranches(repo: string, branches: BranchToPrune[]): Promise<string[]> {
  if (branches.length === 0) return Promise.resolve([]);
  return withRefWrites(repo, async () => {
    const held = await checkedOutBranches(repo);
    const deleted: string[] = [];
    for (const b of branches) {
      if (held.has(b.branch)) continue; // git branch -D refuses these too; asked first, it is no error
      if (!(await isMergedInto(repo, b.branch, b.safeIn))) continue;
      if (await gitOk(repo, ['branch', '-D', b.branch])) deleted.push(b.branch);
    }
    return deleted;
  });
}

/** Deletes refs (backups), in turn with the rig's other ref writes. Returns the deleted. */
export function deleteRefs(repo: string, refs: string[]): Promise<string[]> {
  if (refs.length === 0) return Promise.resolve([]);
  return withRefWrites(repo, async () => {
    const deleted: string[] = [];
    for (const ref of refs) if (await gitOk(repo, ['update-ref', '-d', ref])) deleted.push(ref);
    return deleted;
  });
}
