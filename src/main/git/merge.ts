// In-process reads and merge candidates with isomorphic-git: no worktree is touched.
import fs from 'node:fs';
import path from 'node:path';
import git from 'isomorphic-git';
import { crashSafeFs } from './crash-safe-fs';

export interface RepoRef {
  /** The repository's working directory (the rig path). */
  dir: string;
}

const gitdirOf = (r: RepoRef) => path.join(r.dir, '.git');

export async function resolveRef(r: RepoRef, ref: string): Promise<string | null> {
  try {
    return await git.resolveRef({ fs, dir: r.dir, gitdir: gitdirOf(r), ref });
  } catch {
    return null;
  }
}

/** A commit named by its full sha (it must exist) or by a ref. */
export async function resolveCommit(r: RepoRef, commitOrRef: string): Promise<string | null> {
  if (!/^[0-9a-f]{40}$/.test(commitOrRef)) return resolveRef(r, commitOrRef);
  try {
    await git.readCommit({ fs, dir: r.dir, gitdir: gitdirOf(r), oid: commitOrRef });
    return commitOrRef;
  } catch {
    return null;
  }
}

export async function currentBranch(r: RepoRef): Promise<string | null> {
  return (await git.currentBranch({ fs, dir: r.dir, gitdir: gitdirOf(r), fullname: false })) ?? null;
}

export async function isAncestor(r: RepoRef, ancestor: string, descendant: string): Promise<boolean> {
  if (ancestor === descendant) return true;
  return git.isDescendent({ fs, dir: r.dir, gitdir: gitdirOf(r), oid: descendant, ancestor, depth: -1 });
}

/** The committer of every merge the refinery builds (how its merges are recognised). */
export const REFINERY_EMAIL = 'refinery@overseer.local';

export type MergeCandidate =
  | { kind: 'candidate'; oid: string; base: string }
  | { kind: 'already-merged'; base: string }
  | { kind: 'conflict'; base: string; files: string[] };

/**
 * Builds the merge commit of `source` (a commit sha or a ref) into `target` without moving any ref or touching
 * any checkout. `base` is the target tip it was built on, for the compare-and-swap.
 */
export async function buildMergeCandidate(r: RepoRef, target: string, source: string, message: string): Promise<MergeCandidate> {
  const base = await resolveRef(r, `refs/heads/${target}`);
  const head = await resolveCommit(r, source);
  if (!base) throw new Error(`target branch ${target} not found`);
  if (!head) throw new Error(`${source} not found`);
  if (await isAncestor(r, head, base)) return { kind: 'already-merged', base };
  const who = { name: 'Overseer Refinery', email: REFINERY_EMAIL };
  try {
    const result = await git.merge({
      fs: crashSafeFs,
      dir: r.dir,
      gitdir: gitdirOf(r),
      ours: base,
      theirs: head,
      fastForward: false,
      noUpdateBranch: true,
      abortOnConflict: true,
      message,
      author: who,
      committer: who,
    });
    if (!result.oid) throw new Error('merge produced no commit');
    return { kind: 'candidate', oid: result.oid, base };
  } catch (err) {
    const e = err as { code?: string; data?: { filepaths?: string[] } };
    if (e.code === 'MergeConflictError' || e.code === 'MergeNotSupportedError') {
      return { kind: 'conflict', base, files: e.data?.filepaths ?? [] };
    }
    throw err;
  }
}
