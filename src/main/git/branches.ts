// Polecat branches: the work they hold for a bead, and their cleanup once merged.
import { git, gitOk } from './git-cli';
import { readBranch, readBranches } from './ref-files';
import { withRefWrites } from './ref-writes';

export interface BranchCommit {
  sha: string;
  subject: string;
}

export interface PriorWork {
  branch: string;
  /** The branch tip. */
  head: string;
  target: string;
  /** Commits on the branch that the target lacks, newest first. */
  commits: BranchCommit[];
}

const POLECAT_REFS = 'refs/heads/polecat/';

export async function branchExists(repo: string, branch: string): Promise<boolean> {
  return gitOk(repo, ['show-ref', '--verify', '--quiet', `refs/heads/${branch}`]);
}

/** Commits on `branch` that `target` lacks (newest first), or null when either is missing. */
export async function commitsAhead(repo: string, branch: string, target: string): Promise<PriorWork | null> {
  const known = readBranch(repo, branch);
  const head = known !== undefined ? known : (await git(repo, ['rev-parse', '-q', '--verify', `refs/heads/${branch}^{commit}`], { allowFail: true })).trim();
  if (!head) return null;
  const targetHead = readBranch(repo, target);
  if (targetHead === null || (targetHead === undefined && !(await gitOk(repo, ['rev-parse', '-q', '--verify', `refs/heads/${target}^{commit}`])))) return null;
  const out = await git(repo, ['log', '--format=%H %s', `refs/heads/${target}..refs/heads/${branch}`]);
  const commits = out
    .split('\n')
    .filter(Boolean)
    .map((line) => ({ sha: line.slice(0, 40), subject: line.slice(41) }));
  return { branch, head, target, commits };
}

/**
 * Another polecat's branch for this bead that holds commits the target lacks: the work
 * of an earlier run, which a new run continues instead of starting over. Of several, the
 * most recently committed.
 */
export async function findPriorWorkBranch(
  repo: string, beadId: string, target: string, except: string, branches?: string[],
): Promise<PriorWork | null> {
  let candidates = (branches ?? (await polecatBranches(repo))).filter((b) => b !== except && b.endsWith(`/${beadId}`));
  if (candidates.length > 1) candidates = await newestFirst(repo, candidates);
  for (const branch of candidates) {
    const work = await commitsAhead(repo, branch, target);
    if (work && work.commits.length > 0) return work;
  }
  return null;
}

/** Every polecat branch of the repository (read from its ref files when it can be). */
export async function polecatBranches(repo: string): Promise<string[]> {
  const fromFiles = readBranches(repo, POLECAT_REFS.slice('refs/heads/'.length));
  if (fromFiles) return [...fromFiles.keys()];
  const out = await git(repo, ['for-each-ref', '--format=%(refname:short)', POLECAT_REFS], { allowFail: true });
  return out.split('\n').filter(Boolean);
}

async function newestFirst(repo: string, branches: string[]): Promise<string[]> {
  const out = await git(repo, ['for-each-ref', '--sort=-committerdate', '--format=%(refname:short)', ...branches.map((b) => `refs/heads/${b}`)], { allowFail: true });
  return out.split('\n').filter(Boolean);
}

/**
 * Deletes a polecat branch whose every commit is on the target, unless a worktree has it
 * checked out (`git branch -D` refuses that by itself). Only a branch known to be done with
 * is named here (its MR merged, or the worktree that held it moved on): a sweep over all
 * merged branches would also catch one a polecat is creating from the target's tip at that
 * moment. Taken in turn with the rig's other ref writes: a start must not see it listed and
 * then find it gone.
 */
export function deleteBranchIfMerged(repo: string, branch: string, target: string): Promise<boolean> {
  if (!branch.startsWith('polecat/')) return Promise.resolve(false);
  return withRefWrites(repo, async () => {
    const head = readBranch(repo, branch);
    if (head === null || (head === undefined && !(await branchExists(repo, branch)))) return false;
    if (!(await gitOk(repo, ['merge-base', '--is-ancestor', `refs/heads/${branch}`, `refs/heads/${target}`]))) return false;
    return gitOk(repo, ['branch', '-D', branch]);
  });
}
